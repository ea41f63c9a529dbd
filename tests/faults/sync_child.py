"""One sync in a process of its own, for the kill tests (test_processes.py): the parent kills it with SIGKILL
at a point of its choosing, then checks what the next start finds.

    python sync_child.py '{"database_url": ..., "account_id": ..., "connection_id": ..., "server_url": ...,
                           "integration_id": ..., "at": "<ISO instant>", "page_size": 5,
                           "hold_in_apply": "<path>" | null}'

The Kombo key comes in STAFFSYNC_TEST_KOMBO_KEY (not argv, which other users can read). Batches of ten
records, so that a fetch killed after its first pages leaves a staged plan behind. `hold_in_apply`: once
the apply has written every row, inside its still open transaction, the child creates this file and waits
to be killed; the parent kills it there.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def main() -> None:
    args = json.loads(sys.argv[1])
    from staffsync.connectors.kombo import KomboConnector, retry_config
    from staffsync.storage.db import Database
    from staffsync.sync import engine

    if args["hold_in_apply"]:
        marker, real_apply = Path(args["hold_in_apply"]), engine.apply_run

        def apply_then_hold(*positional: Any, **named: Any) -> Any:
            applied = real_apply(*positional, **named)
            marker.write_text("every row of the apply is written; the transaction is open")
            time.sleep(600)  # killed here; the bound only matters if the parent died first
            return applied

        engine.apply_run = apply_then_hold  # type: ignore[assignment]

    at = dt.datetime.fromisoformat(args["at"])
    connector = KomboConnector(
        os.environ["STAFFSYNC_TEST_KOMBO_KEY"],
        args["integration_id"],
        timezone="Europe/Berlin",
        server_url=args["server_url"],
        retry=retry_config(initial_ms=5, max_interval_ms=20, max_elapsed_ms=300, jitter_ms=0),
        page_size=args["page_size"],
        timeout_ms=300_000,
    )
    with connector:
        outcome = engine.run_sync(
            Database(args["database_url"]),
            args["connection_id"],
            account_id=args["account_id"],
            connector=connector,
            now=lambda: at,
            full=True,
            batch_size=10,
        )
    print(outcome.status)


if __name__ == "__main__":
    main()
