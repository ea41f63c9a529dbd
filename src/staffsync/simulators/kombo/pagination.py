"""Opaque cursors and keyset pages over records kept sorted by Kombo id.

A cursor carries the last id of the page it follows, a fingerprint of the request's filters and
the moment it was issued. Keyset paging (rather than an offset) keeps each page's cost independent
of how deep it is, and never skips or repeats a record when hires land between two pages. The SDK
re-sends every filter with the cursor; a cursor presented with different filters, to another
endpoint or integration, or after its lifetime, is rejected with 400 `PLATFORM.INPUT_INVALID`.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Final, TypeVar

import orjson

from staffsync.simulators.kombo.wire import input_invalid

DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 250
# Neither takes part in the fingerprint: the cursor replaces itself, and a changed page size is harmless.
UNBOUND_PARAMS: Final = frozenset({"cursor", "page_size"})

_T = TypeVar("_T")


def fingerprint(scope: str, params: Iterable[tuple[str, str]]) -> str:
    bound = sorted((key, value) for key, value in params if key not in UNBOUND_PARAMS)
    return hashlib.sha256(orjson.dumps([scope, bound])).hexdigest()[:20]


def encode_cursor(after: str, filters: str, issued_at: dt.datetime) -> str:
    payload = orjson.dumps({"v": 1, "after": after, "f": filters, "t": issued_at.timestamp()})
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str, filters: str, *, now: dt.datetime, lifetime: dt.timedelta | None) -> str:
    """The id the next page starts after; 400 for anything this server did not issue for these filters."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = orjson.loads(raw)
        after, bound, issued = payload["after"], payload["f"], float(payload["t"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise input_invalid("The cursor is not valid.") from None
    if not isinstance(after, str) or bound != filters:
        raise input_invalid("The cursor does not belong to this request: send the same filters as for the first page.")
    if lifetime is not None and now - dt.datetime.fromtimestamp(issued, dt.UTC) > lifetime:
        raise input_invalid("The cursor has expired: start again from the first page.")
    return after


def parse_page_size(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise input_invalid(f"page_size must be an integer, got {raw!r}.") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise input_invalid(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {size}.")
    return size


def page(
    order: Sequence[str], after: str | None, size: int, accept: Callable[[str], _T | None]
) -> tuple[list[_T], str | None]:
    """Up to `size` accepted items after `after`, and the id to continue from (None on the last page).

    Looks one accepted item ahead, so the last page says `next: null` instead of leading to an empty page.
    """
    results: list[_T] = []
    last: str | None = None
    for index in range(bisect.bisect_right(order, after) if after is not None else 0, len(order)):
        key = order[index]
        item = accept(key)
        if item is None:
            continue
        if len(results) == size:
            return results, last
        results.append(item)
        last = key
    return results, None
