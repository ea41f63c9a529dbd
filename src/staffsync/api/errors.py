"""The one error shape of the REST API, `{"error": {"code", "message", "details"}}`, and the domain errors it maps.

Every failure a client can cause gets a stable `code` to branch on and a message an admin can act on."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from staffsync.domain.fields import FieldSettingsError
from staffsync.services.employees import EmailTaken, EmployeeNotFound, FieldLocked, InvalidEdit
from staffsync.storage.locks import ConnectionBusy
from staffsync.sync.apply import ApprovalConflict
from staffsync.sync.engine import ConnectionDisconnected, RunNotHeld

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def not_found(what: str, object_id: str) -> ApiError:
    # The same answer whether the object does not exist or belongs to another account: ids are not probed.
    return ApiError(404, "not_found", f"No {what} {object_id}")


def envelope(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": details}}, status_code=status)


def http_error_envelope(error: StarletteHTTPException) -> JSONResponse:
    return envelope(error.status_code, _CODES.get(error.status_code, "http_error"), str(error.detail))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    def _api_error(_: Request, error: ApiError) -> JSONResponse:
        return envelope(error.status, error.code, error.message, error.details)

    @app.exception_handler(StarletteHTTPException)
    def _http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return http_error_envelope(error)

    @app.exception_handler(RequestValidationError)
    def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        # Only where and what: the rejected input itself may be personal data and is not echoed back.
        details = [{"loc": list(item["loc"]), "type": item["type"], "msg": item["msg"]} for item in error.errors()]
        return envelope(422, "invalid_request", "The request is not valid", details)

    @app.exception_handler(FieldLocked)
    def _locked(_: Request, error: FieldLocked) -> JSONResponse:
        details = [{"field": lock.field, "reason": lock.reason} for lock in error.locks]
        return envelope(409, "field_locked", str(error), details)

    @app.exception_handler(FieldSettingsError)
    def _settings(_: Request, error: FieldSettingsError) -> JSONResponse:
        details = [
            {"code": p.code, "field": p.field, "severity": p.severity, "message": p.message} for p in error.problems
        ]
        return envelope(422, "invalid_field_settings", str(error), details)

    @app.exception_handler(ConnectionBusy)
    def _busy(_: Request, error: ConnectionBusy) -> JSONResponse:
        return envelope(409, "sync_running", str(error))

    @app.exception_handler(ApprovalConflict)
    def _conflict(_: Request, error: ApprovalConflict) -> JSONResponse:
        return envelope(409, "approval_conflict", str(error), {"employee_ids": error.employee_ids})

    @app.exception_handler(RunNotHeld)
    def _not_held(_: Request, error: RunNotHeld) -> JSONResponse:
        return envelope(409, "run_not_held", str(error))

    @app.exception_handler(ConnectionDisconnected)
    def _disconnected(_: Request, error: ConnectionDisconnected) -> JSONResponse:
        return envelope(409, "connection_disconnected", str(error))

    @app.exception_handler(EmailTaken)
    def _email_taken(_: Request, error: EmailTaken) -> JSONResponse:
        return envelope(409, "email_taken", str(error))

    @app.exception_handler(InvalidEdit)
    def _invalid_edit(_: Request, error: InvalidEdit) -> JSONResponse:
        return envelope(422, "invalid_edit", str(error))

    @app.exception_handler(EmployeeNotFound)
    def _no_employee(_: Request, error: EmployeeNotFound) -> JSONResponse:
        return envelope(404, "not_found", str(error))
