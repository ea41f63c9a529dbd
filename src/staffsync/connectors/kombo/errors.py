"""Kombo SDK failures in plain words: every exception the official SDK raises becomes one ConnectorError.

The SDK raises (kombo/errors/, checked against SDK 1.4.0):
- `KomboHrisError` / `KomboGeneralError` for a non-2xx JSON error envelope, with Kombo's `code`, `message`
  and `log_url`;
- `SDKDefaultError` for a non-JSON answer (an HTML 502 from a proxy);
- `ResponseValidationError` when a body does not fit the SDK's models: a 200 with a missing key, an
  unknown strict enum or truncated JSON, but also an error envelope with a `code` the SDK does not know,
  so the HTTP status decides before the validation failure is blamed on the body;
- `NoResponseError`, and raw `httpx` transport errors and timeouts.

Retries happened before any of these reach us (the SDK retries 429 and 5xx within the RetryConfig), so a
rate limit or a 5xx here means Kombo kept failing for the whole retry window. Messages never carry the API
key (scrubbed even from Kombo's own words) nor payload values: a validation failure names the location
of the offending value and the kind of error, never the value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import httpx
import pydantic
from kombo import errors as sdk_errors

from staffsync.connectors.base import ConnectorError, FailureKind

# Kombo's own message is quoted for the admin; a runaway one must not flood the run record.
MAX_QUOTED = 300

_CREDENTIALS = FailureKind.CREDENTIALS_REJECTED
_WAITING = FailureKind.WAITING_FOR_SOURCE
_UNAVAILABLE = FailureKind.UNAVAILABLE
_RATE_LIMITED = FailureKind.RATE_LIMITED

# Kombo error code → (kind, what it means for the admin). Codes not listed fall back to the HTTP status.
_CODES: Final[Mapping[str, tuple[FailureKind, str]]] = {
    "PLATFORM.AUTHENTICATION_INVALID": (_CREDENTIALS, "Kombo rejected the credentials"),
    "INTEGRATION.AUTHENTICATION_INVALID": (
        _CREDENTIALS,
        "Kombo rejected the credentials: the HR system no longer accepts the credentials stored at Kombo for "
        "this integration; reconnect it in Kombo",
    ),
    "INTEGRATION.PERMISSION_MISSING": (
        _CREDENTIALS,
        "Kombo rejected the credentials: the HR system account connected to Kombo lacks a permission",
    ),
    "PLATFORM.IP_NOT_WHITELISTED": (
        _CREDENTIALS,
        "Kombo rejected the credentials: this server's IP address is not on the Kombo environment's allow list",
    ),
    "PLATFORM.INTEGRATION_NOT_FOUND": (
        _CREDENTIALS,
        "Kombo does not know integration {integration_id}: it was deleted, or it belongs to another Kombo "
        "environment than the API key",
    ),
    "INTEGRATION.SETUP_SYNC_PENDING": (_WAITING, "Waiting for the HR system's first sync at Kombo"),
    "INTEGRATION.SETUP_INCOMPLETE": (
        _WAITING,
        "Waiting for the HR system's first sync at Kombo: the integration's setup is not finished (for "
        "example, its employee filters are not confirmed yet)",
    ),
    "INTEGRATION.QA_FAILED": (
        _WAITING,
        "Waiting for the HR system's first sync at Kombo: Kombo's quality check of that sync failed and "
        "Kombo is reviewing it",
    ),
    "INTEGRATION.INACTIVE": (
        _WAITING,
        "The integration is inactive at Kombo (paused or switched off): syncs resume once it is active again",
    ),
    "INTEGRATION.MODEL_NOT_AVAILABLE": (
        _UNAVAILABLE,
        "Kombo does not offer employees for this HR system",
    ),
    "INTEGRATION.MODEL_DISABLED": (
        _UNAVAILABLE,
        "Kombo does not sync employees for this integration: the model is switched off in Kombo's scope config",
    ),
    "PLATFORM.RATE_LIMIT_EXCEEDED": (_RATE_LIMITED, "Kombo's rate limit was still exceeded {retry_note}"),
    "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED": (
        _RATE_LIMITED,
        "Kombo's concurrency limit was still exceeded {retry_note}",
    ),
    "REMOTE.RATE_LIMIT_EXCEEDED": (
        _RATE_LIMITED,
        "The HR system behind Kombo kept answering 'rate limit exceeded' {retry_note}",
    ),
    "REMOTE.SERVICE_UNAVAILABLE": (_UNAVAILABLE, "The HR system behind Kombo is unavailable"),
    "PLATFORM.TASK_TIMED_OUT": (_UNAVAILABLE, "Kombo gave up on the request: its task timed out"),
}


@dataclass(frozen=True, slots=True)
class KomboErrorTranslator:
    """Knows what a message needs that the exception lacks: the limits in force and what must stay secret."""

    integration_id: str
    server_url: str
    timeout_s: float
    # Seconds the SDK keeps retrying 429, 5xx and transport errors; None when retries are off.
    retry_window_s: float | None
    secrets: Sequence[str] = ()

    def translate(self, error: BaseException, *, what: str = "employees", page: int = 1) -> ConnectorError | None:
        """The ConnectorError for an SDK or transport failure, or None for anything else (a bug of ours)."""
        if isinstance(error, sdk_errors.ResponseValidationError) and error.status_code < 400:
            found = self._unreadable(error)
        elif isinstance(error, sdk_errors.SDKError):
            found = self._http(error)
        elif isinstance(error, httpx.TimeoutException):
            found = ConnectorError(
                FailureKind.NETWORK,
                f"Kombo did not answer within {_seconds(self.timeout_s)} s{self._retried()}",
                details={"error": type(error).__name__},
            )
        elif isinstance(error, httpx.TransportError):
            found = ConnectorError(
                FailureKind.NETWORK,
                f"Could not reach Kombo at {self._host()}: {type(error).__name__}"
                + (f" ({_quote(str(error))})" if str(error) else "")
                + self._retried(),
                details={"error": type(error).__name__},
            )
        elif isinstance(error, sdk_errors.NoResponseError):
            found = ConnectorError(FailureKind.NETWORK, f"Kombo at {self._host()} sent no response")
        elif isinstance(error, ConnectorError):
            # Found by the connector itself in what the SDK returned: told where, like the SDK's own.
            found = error
        else:
            return None
        return self._finish(found, what=what, page=page)

    def _http(self, error: sdk_errors.SDKError) -> ConnectorError:
        status = error.status_code
        code, kombo_message, log_url = _envelope(error)
        details = {"status": str(status)} | ({"code": code} if code else {})
        known = _CODES.get(code or "")
        if status < 400:
            # A 2xx that is not JSON: the SDK had nothing to validate.
            return ConnectorError(
                FailureKind.INVALID_RESPONSE,
                f"Kombo sent a response staffsync cannot read: HTTP {status} with {_content_type(error)}, not JSON",
                details=details,
            )
        if known is not None:
            kind, text = known
            text = text.format(integration_id=self.integration_id, retry_note=self._retry_note(status))
            if kind is _UNAVAILABLE:
                text += f" (HTTP {status}){self._retried() if status >= 500 else ''}"
        elif status == 401 or status == 403:
            kind, text = _CREDENTIALS, f"Kombo rejected the credentials (HTTP {status})"
        elif status == 429:
            kind, text = _RATE_LIMITED, f"Kombo's rate limit was still exceeded {self._retry_note(status)}"
        elif status >= 500:
            kind, text = _UNAVAILABLE, f"Kombo is unavailable (HTTP {status}){self._retried()}"
        else:
            kind, text = _UNAVAILABLE, f"Kombo refused the request (HTTP {status}{f', {code}' if code else ''})"
        if kombo_message:
            text = f"{text}: {_quote(kombo_message)}"
        else:
            text = f"{text}; the answer was not a Kombo error ({_content_type(error)})"
        return ConnectorError(kind, text, log_url=log_url, details=details)

    def _unreadable(self, error: sdk_errors.ResponseValidationError) -> ConnectorError:
        cause = error.cause
        if isinstance(cause, pydantic.ValidationError) and cause.errors():
            first = cause.errors()[0]
            location = ".".join(str(part) for part in first["loc"] if part not in ("body", "data"))
            # A missing `data` itself (an error envelope sent with 200) is named rather than left blank.
            location = location or ".".join(str(part) for part in first["loc"] if part != "body") or "the body"
            problem = f"field `{location}`: {_describe(first)}"
            more = cause.error_count() - 1
            if more:
                problem += f" (and {more} more problem{'s' if more > 1 else ''})"
        else:
            # pydantic_core.from_json failed: the body was cut short or is not JSON at all.
            problem = "the body is not complete JSON"
        return ConnectorError(
            FailureKind.INVALID_RESPONSE,
            f"Kombo sent a response staffsync cannot read: {problem}",
            details={"status": str(error.status_code)},
        )

    def _finish(self, error: ConnectorError, *, what: str, page: int) -> ConnectorError:
        if page > 1:
            error.message += f" (at page {page} of Kombo's {what})"
        elif what != "employees":
            error.message += f" (reading Kombo's {what})"
        if error.log_url:
            error.message += f" (log: {error.log_url})"
        for secret in self.secrets:
            if len(secret) >= 4:
                error.message = error.message.replace(secret, "[redacted]")
        error.details = error.details | {"request": what, "page": str(page)}
        return error

    def _retried(self) -> str:
        return f", after retrying for {_seconds(self.retry_window_s)} s" if self.retry_window_s else ""

    def _retry_note(self, status: int) -> str:
        if not self.retry_window_s:
            return f"(HTTP {status}; retries are off)"
        return f"after retrying for {_seconds(self.retry_window_s)} s (HTTP {status})"

    def _host(self) -> str:
        return httpx.URL(self.server_url).host or self.server_url


def _content_type(error: sdk_errors.SDKError) -> str:
    return error.headers.get("content-type") or "no content type"


def _envelope(error: sdk_errors.SDKError) -> tuple[str | None, str | None, str | None]:
    """Kombo's (code, message, log_url), from the typed error or, leniently, from the raw body: an unknown
    code fails the SDK's strict model, and its message is still worth showing."""
    if isinstance(error, sdk_errors.KomboHrisError | sdk_errors.KomboGeneralError | sdk_errors.KomboAtsError):
        typed = error.data.error
        return typed.code, typed.message or None, typed.log_url
    try:
        body = json.loads(error.body)
    except ValueError:
        return None, None, None
    found = body.get("error") if isinstance(body, dict) else None
    if not isinstance(found, dict):
        return None, None, None

    def text(key: str) -> str | None:
        value = found.get(key)
        return value if isinstance(value, str) and value.strip() else None

    return text("code"), text("message"), text("log_url")


def _describe(problem: Mapping[str, object]) -> str:
    kind = str(problem.get("type", "invalid"))
    # pydantic's own messages describe the expectation, not the input; a ValueError raised by a validator
    # may quote the input, so only its type is given.
    if kind in ("value_error", "assertion_error"):
        return kind
    return f"{problem.get('msg', 'invalid value')} ({kind})"


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 1] + "…"


def _seconds(value: float | None) -> str:
    return f"{value:g}" if value is not None else "?"
