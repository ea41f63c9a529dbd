"""Kombo's wire conventions: timestamps, the success and error envelopes, and JSON responses.

Everything the official SDK checks strictly lives here: the error `code` is a closed Literal in the
SDK (an unknown code turns a typed error into a validation error), and the SDK matches the
`Content-Type` header against `application/json` before parsing, so responses carry exactly that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final, Literal

import orjson
from starlette.responses import Response

JSON_CONTENT_TYPE: Final = "application/json"

ErrorCode = Literal[
    "PLATFORM.RATE_LIMIT_EXCEEDED",
    "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED",
    "PLATFORM.INTEGRATION_NOT_FOUND",
    "PLATFORM.INPUT_INVALID",
    "PLATFORM.UNKNOWN_ERROR",
    "PLATFORM.IP_NOT_WHITELISTED",
    "PLATFORM.AUTHENTICATION_INVALID",
    "PLATFORM.TASK_TIMED_OUT",
    "INTEGRATION.PERMISSION_MISSING",
    "INTEGRATION.AUTHENTICATION_INVALID",
    "INTEGRATION.QA_FAILED",
    "INTEGRATION.SETUP_SYNC_PENDING",
    "INTEGRATION.SETUP_INCOMPLETE",
    "INTEGRATION.INACTIVE",
    "INTEGRATION.MODEL_NOT_AVAILABLE",
    "INTEGRATION.MODEL_DISABLED",
    "INTEGRATION.ACTION_NOT_AVAILABLE",
    "INTEGRATION.ACTION_DISABLED",
    "REMOTE.SERVICE_UNAVAILABLE",
    "REMOTE.RATE_LIMIT_EXCEEDED",
    "REMOTE.INPUT_INVALID",
    "REMOTE.UNKNOWN_HTTP_ERROR",
    "HRIS.STAFFING_ENTITY_CLOSED",
    "HRIS.EMPLOYEE_ALREADY_EXISTS",
]

_TITLES: Final[Mapping[str, str]] = {
    "PLATFORM.RATE_LIMIT_EXCEEDED": "Rate limit exceeded",
    "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED": "Concurrency limit exceeded",
    "PLATFORM.INTEGRATION_NOT_FOUND": "Integration not found",
    "PLATFORM.INPUT_INVALID": "Input invalid",
    "PLATFORM.UNKNOWN_ERROR": "Unknown error",
    "PLATFORM.AUTHENTICATION_INVALID": "Authentication invalid",
    "INTEGRATION.PERMISSION_MISSING": "Permission missing",
    "INTEGRATION.SETUP_SYNC_PENDING": "Setup sync pending",
    "INTEGRATION.SETUP_INCOMPLETE": "Setup incomplete",
    "INTEGRATION.INACTIVE": "Integration inactive",
    "REMOTE.SERVICE_UNAVAILABLE": "Remote service unavailable",
}


class KomboJSONResponse(Response):
    """JSON rendered by orjson, with the bare media type: Starlette only appends a charset to text/*."""

    media_type = JSON_CONTENT_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class KomboError(Exception):
    """An error answered in Kombo's envelope; raised anywhere under /v1 and rendered by the app."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> KomboJSONResponse:
        return KomboJSONResponse(error_body(self.code, self.message), status_code=self.status, headers=self.headers)


def input_invalid(message: str) -> KomboError:
    return KomboError(400, "PLATFORM.INPUT_INVALID", message)


def error_body(code: str, message: str) -> dict[str, Any]:
    # `title` and `log_url` are required but nullable; a simulator has no log viewer to link to.
    return {
        "status": "error",
        "error": {"code": code, "title": _TITLES.get(code), "message": message, "log_url": None},
    }


def success(data: Any, **extra: Any) -> KomboJSONResponse:
    return KomboJSONResponse({"status": "success", "data": data, **extra})


# Pages repeat the same instants and dates over and over (HR systems edit in bulk): formatting each
# once is a third of the time it takes to render a page of employees.
@lru_cache(maxsize=65_536)
def iso(moment: dt.datetime) -> str:
    """Kombo's JavaScript-style timestamp, `2024-01-01T00:00:00.000Z`, always in UTC."""
    utc = moment.astimezone(dt.UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def iso_or_none(moment: dt.datetime | None) -> str | None:
    return None if moment is None else iso(moment)


@lru_cache(maxsize=65_536)
def date_as_datetime(day: dt.date | None) -> str | None:
    """Dates travel as midnight UTC datetimes: the SDK types start and termination dates as datetimes."""
    return None if day is None else f"{day:%Y-%m-%d}T00:00:00.000Z"


def parse_datetime(text: str) -> dt.datetime:
    """ISO 8601 with `Z` or an offset, with or without fractions; a naive value is read as UTC,
    because the SDK sends naive datetimes without a zone (notes §4)."""
    moment = dt.datetime.fromisoformat(text.strip())
    return moment.replace(tzinfo=dt.UTC) if moment.utcoffset() is None else moment.astimezone(dt.UTC)
