"""Opaque cursors for every list of the API (`?cursor=&limit=`, `next_cursor` in the body).

A cursor is an offset into the list's total order, base64-wrapped so clients treat it as a token and the
encoding can change without breaking them."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Query

from staffsync.api.errors import ApiError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    offset: int
    limit: int

    def window(self, rows: Sequence[T]) -> tuple[list[T], str | None]:
        """`rows` were fetched with one row more than the limit: its presence says another page exists."""
        items = list(rows[: self.limit])
        more = len(rows) > self.limit
        return items, encode_cursor(self.offset + self.limit) if more else None

    @property
    def probe(self) -> int:
        return self.limit + 1


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        offset = json.loads(raw)["o"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ApiError(400, "invalid_cursor", "The cursor is not one this API returned") from None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ApiError(400, "invalid_cursor", "The cursor is not one this API returned")
    return offset


def page_request(
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> PageRequest:
    return PageRequest(decode_cursor(cursor) if cursor else 0, limit)


Paging = Annotated[PageRequest, Depends(page_request)]
