"""Opaque cursors for every list of the API (`?cursor=&limit=`, `next_cursor` in the body).

A cursor is an offset into the list's total order, base64-wrapped so clients treat it as a token and the
encoding can change without breaking them. The directory's lists, which hold a whole company, page by keyset
instead (`DirectoryPaging`): their cursor is the sort key of the last person shown, so a deep page costs what
the first does."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Query

from staffsync.api.errors import ApiError
from staffsync.storage.directory import DirectoryCursor

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


CursorQuery = Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def page_request(cursor: CursorQuery = None, limit: LimitQuery = DEFAULT_LIMIT) -> PageRequest:
    return PageRequest(decode_cursor(cursor) if cursor else 0, limit)


Paging = Annotated[PageRequest, Depends(page_request)]
# A directory cursor holds the last person's sort key: names of up to 200 characters each, JSON-escaped.
DirectoryCursorQuery = Annotated[str | None, Query(max_length=4096, description="next_cursor of the previous page")]


@dataclass(frozen=True, slots=True)
class DirectoryPageRequest:
    after: DirectoryCursor | None
    limit: int


def directory_page_request(
    cursor: DirectoryCursorQuery = None, limit: LimitQuery = DEFAULT_LIMIT
) -> DirectoryPageRequest:
    after = DirectoryCursor.from_token(cursor) if cursor else None
    if cursor and after is None:
        raise ApiError(400, "invalid_cursor", "The cursor is not one this API returned")
    return DirectoryPageRequest(after, limit)


DirectoryPaging = Annotated[DirectoryPageRequest, Depends(directory_page_request)]
