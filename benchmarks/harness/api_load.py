#!/usr/bin/env python3
"""The client side of the API latency benchmark, run as a process of its own (not the server's).

Sends each endpoint's requests one after another on one keep-alive connection, so every latency is
the server's answer time plus loopback, with no queueing of its own; prints one JSON document.

  api_load.py --base-url http://127.0.0.1:PORT --token T --connection C --last-names FILE [--requests 500]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

PAGE = 50
LIST_PAGES = 10


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value that at least p % of the values do not exceed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def list_cursors(client: httpx.Client) -> list[str | None]:
    """The first pages of the directory, reached the way a client pages: by following next_cursor."""
    cursors: list[str | None] = [None]
    while len(cursors) < LIST_PAGES:
        params: dict[str, Any] = {"limit": PAGE}
        if cursors[-1]:
            params["cursor"] = cursors[-1]
        following = client.get("/api/v1/employees", params=params).raise_for_status().json().get("next_cursor")
        if not following:
            break
        cursors.append(following)
    return cursors


def endpoints(client: httpx.Client, last_names: list[str]) -> dict[str, Iterator[dict[str, Any]]]:
    """Each endpoint as an endless stream of query parameters."""
    pages = list_cursors(client)
    return {
        "search_last_name": ({"q": name, "limit": PAGE} for name in itertools.cycle(last_names)),
        "list_page": ({"limit": PAGE, **({"cursor": c} if c else {})} for c in itertools.cycle(pages)),
        "onboardings": itertools.repeat({"limit": PAGE}),
        "offboardings": itertools.repeat({"limit": PAGE}),
        "connection_preview": itertools.repeat({"limit": PAGE}),
    }


def path_of(name: str, connection: str) -> str:
    return {
        "search_last_name": "/api/v1/employees",
        "list_page": "/api/v1/employees",
        "onboardings": "/api/v1/onboardings",
        "offboardings": "/api/v1/offboardings",
        "connection_preview": f"/api/v1/connections/{connection}/preview",
    }[name]


def run_endpoint(
    send: Callable[[dict[str, Any]], httpx.Response], params: Iterator[dict[str, Any]], *, requests: int, warmup: int
) -> dict[str, Any]:
    latencies: list[float] = []
    items: list[int] = []
    errors = 0
    for index in range(warmup + requests):
        query = next(params)
        started = time.perf_counter()
        response = send(query)
        elapsed = time.perf_counter() - started
        if index < warmup:
            continue
        latencies.append(elapsed * 1000)
        if response.status_code != 200:
            errors += 1
        else:
            items.append(len(response.json().get("items", [])))
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p90_ms": round(percentile(latencies, 90), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "min_ms": round(min(latencies), 2),
        "max_ms": round(max(latencies), 2),
        "items_per_answer": round(statistics.fmean(items), 1) if items else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--connection", required=True)
    parser.add_argument("--last-names", required=True, type=Path)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    last_names = json.loads(args.last_names.read_text())
    headers = {"Authorization": f"Bearer {args.token}"}
    results: dict[str, Any] = {}
    with httpx.Client(base_url=args.base_url, headers=headers, timeout=120) as client:
        for name, params in endpoints(client, last_names).items():
            path = path_of(name, args.connection)

            def send(query: dict[str, Any], path: str = path) -> httpx.Response:
                return client.get(path, params=query)

            results[name] = run_endpoint(send, params, requests=args.requests, warmup=args.warmup)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
