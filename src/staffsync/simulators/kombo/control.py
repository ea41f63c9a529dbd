"""`/_control`: the simulator's own API (not Kombo's) for tests and demos. No key: it listens on loopback.

People are named by Kombo id, simulator id (`emp_000123`) or remote id; groups, legal entities and
locations by Kombo id or simulator id. Person fields use the vendor-neutral vocabulary of
`staffsync.simulators.people` (`employment_type: "contractor"`, `end_date: "2026-06-30"`).
Errors are `{"error": "..."}` with 400 (bad input) or 404 (unknown integration or person).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Final

from fastapi import APIRouter, HTTPException
from starlette.requests import Request

from staffsync.simulators.kombo.faults import Fault
from staffsync.simulators.kombo.integration import SETUP_STATUSES, Integration
from staffsync.simulators.kombo.state import SimulatorState
from staffsync.simulators.kombo.wire import iso, parse_datetime
from staffsync.simulators.population import EMPLOYMENT_STATUSES, EMPLOYMENT_TYPES, Person, PostalAddress

_TEXT_FIELDS: Final = frozenset(
    {
        "first_name",
        "last_name",
        "work_email",
        "personal_email",
        "personal_phone",
        "work_phone",
        "employee_number",
        "job_title",
    }
)
_GROUP_FIELDS: Final = frozenset({"team_id", "department_id"})
# Control name -> (attribute of SimulatorSettings, JSON type, conversion); durations travel as numbers.
_SETTINGS: Final[dict[str, tuple[str, type, Callable[[Any], Any] | None]]] = {
    "auto_sync": ("auto_sync", bool, None),
    "anonymise_after_days": ("anonymise_after", float, lambda v: dt.timedelta(days=v)),
    "setup_error_status": ("setup_error_status", int, None),
    "sync_duration_seconds": ("sync_duration", float, lambda v: dt.timedelta(seconds=v)),
    "cursor_lifetime_seconds": ("cursor_lifetime", float, lambda v: dt.timedelta(seconds=v)),
    "connect_redirect_url": ("connect_redirect_url", str, None),
    "default_size": ("default_size", int, None),
    "default_tool": ("default_tool", str, None),
    "initial_setup_status": ("initial_setup_status", str, None),
}
_NULLABLE_SETTINGS: Final = frozenset({"cursor_lifetime_seconds", "connect_redirect_url"})


def _bad(message: str) -> HTTPException:
    return HTTPException(400, message)


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise _bad("the body is not JSON") from None
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    return body


def _setting(key: str, value: Any) -> Any:
    _, kind, convert = _SETTINGS[key]
    if value is None:
        if key not in _NULLABLE_SETTINGS:
            raise _bad(f"{key} cannot be null")
        return None
    # JSON has no int/bool distinction worth trusting: `true` must not pass for a status code.
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if kind is float and numeric:
        value = float(value)
    elif not (isinstance(value, kind) and (kind is not int or numeric)):
        raise _bad(f"{key} must be a {kind.__name__}")
    if key == "initial_setup_status" and value not in SETUP_STATUSES:
        raise _bad(f"initial_setup_status must be one of {', '.join(SETUP_STATUSES)}")
    return convert(value) if convert else value


def _settings_view(state: SimulatorState) -> dict[str, Any]:
    view = {}
    for key, (attribute, _, _) in _SETTINGS.items():
        value = getattr(state.settings, attribute)
        if isinstance(value, dt.timedelta):
            value = value.total_seconds() / (86_400 if key.endswith("_days") else 1)
        view[key] = value
    return view


def _date(value: Any, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _bad(f"{name} must be an ISO date (YYYY-MM-DD)") from None


def person_fields(integration: Integration, payload: dict[str, Any]) -> dict[str, Any]:
    """Control JSON -> `Person` field values, with Kombo ids translated to the simulator's own."""
    population, mirror = integration.population, integration.mirror

    def local(value: Any, known: Any, name: str) -> str | None:
        if value is None:
            return None
        local_id = mirror.local_of.get(str(value), str(value))
        if local_id not in known:
            raise _bad(f"{name}: no such record {value!r}")
        return local_id

    groups = {group.id for group in population.groups}
    fields: dict[str, Any] = {}
    for name, value in payload.items():
        if name in _TEXT_FIELDS:
            fields[name] = None if value is None else str(value)
        elif name in _GROUP_FIELDS:
            fields[name] = local(value, groups, name)
        elif name == "extra_team_ids":
            fields[name] = tuple(local(v, groups, name) for v in value or ())
        elif name == "legal_entity_id":
            fields[name] = local(value, {e.id for e in population.legal_entities}, name)
        elif name == "work_location_id":
            fields[name] = local(value, {loc.id for loc in population.locations}, name)
        elif name == "manager_id":
            try:
                fields[name] = None if value is None else integration.resolve_person(str(value))
            except KeyError:
                raise _bad(f"manager_id: no such person {value!r}") from None
        elif name in ("start_date", "end_date"):
            fields[name] = _date(value, name)
        elif value in {"employment_type": EMPLOYMENT_TYPES, "employment_status": EMPLOYMENT_STATUSES}.get(name, ()):
            fields[name] = value
        elif name == "home_address":
            try:
                fields[name] = None if value is None else PostalAddress(**value)
            except TypeError:
                raise _bad("home_address needs street, city, postal_code, region and country") from None
        else:
            raise _bad(f"cannot set {name}={value!r}")
    return fields


def person_summary(integration: Integration, person: Person) -> dict[str, Any]:
    record = integration.mirror.by_local.get(person.id)
    return {
        "id": integration.mirror.employee_id(person.id),
        "local_id": person.id,
        "remote_id": person.remote_id,
        # False until a sync brings the change to the API (auto_sync off).
        "synced": record is not None and (record.person is person or record.remote_deleted_at is not None),
    }


def control_router(state: SimulatorState) -> APIRouter:
    router = APIRouter()

    def integration_of(integration_id: str) -> Integration:
        integration = state.integration(integration_id)
        if integration is None:
            raise HTTPException(404, f"no integration {integration_id!r}")
        return integration

    def mutate(integration_id: str, reference: str | None, action: Callable[[Integration], Person]) -> dict[str, Any]:
        with state.lock:
            integration = integration_of(integration_id)
            try:
                person = action(integration)
            except KeyError:
                raise HTTPException(404, f"no person {reference!r}") from None
            except (TypeError, ValueError) as error:
                raise _bad(str(error)) from None
            return person_summary(integration, person)

    @router.get("/state")
    async def overview() -> dict[str, Any]:
        with state.lock:
            return {
                "now": iso(state.clock.now()),
                "environment_id": state.environment_id,
                "settings": _settings_view(state),
                "integrations": [integration.summary() for integration in state.integrations.values()],
            }

    @router.put("/settings")
    async def update_settings(request: Request) -> dict[str, Any]:
        body = await _json(request)
        unknown = sorted(set(body) - set(_SETTINGS))
        if unknown:
            raise _bad(f"unknown settings {unknown}; known: {', '.join(_SETTINGS)}")
        # Validate everything before changing anything: a rejected request leaves the settings as they were.
        values = {_SETTINGS[key][0]: _setting(key, value) for key, value in body.items()}
        for attribute, value in values.items():
            setattr(state.settings, attribute, value)
        return {"ok": True}

    @router.post("/clock")
    async def set_clock(request: Request) -> dict[str, Any]:
        body = await _json(request)
        try:
            if body.get("reset"):
                state.clock.reset()
            if body.get("now") is not None:
                state.clock.set(parse_datetime(str(body["now"])), frozen=bool(body.get("frozen")))
            seconds = float(body.get("advance_seconds") or 0) + 86_400 * float(body.get("advance_days") or 0)
        except ValueError as error:
            raise _bad(str(error)) from None
        state.clock.advance(dt.timedelta(seconds=seconds))
        return {"now": iso(state.clock.now())}

    @router.post("/integrations")
    async def create_integration(request: Request) -> dict[str, Any]:
        body = await _json(request)
        allowed = {"tool", "size", "seed", "setup_status", "organization_name", "end_user_email", "origin_id"}
        unknown = sorted(set(body) - allowed - {"filtering_enabled", "integration_id", "generate"})
        if unknown or body.get("setup_status", "COMPLETED") not in SETUP_STATUSES:
            raise _bad(f"bad fields {unknown}; setup_status is one of {', '.join(SETUP_STATUSES)}")
        try:
            integration = state.create_integration(
                **{key: body[key] for key in allowed if key in body},
                filtering_enabled=bool(body.get("filtering_enabled")),
                integration_id=body.get("integration_id"),
            )
        except (TypeError, ValueError) as error:
            raise _bad(str(error)) from None
        if body.get("generate"):
            with state.lock:
                integration.mirror  # noqa: B018 - generating now spares the first API call the wait
        return integration.summary()

    @router.get("/integrations/{integration_id}")
    async def integration_summary(integration_id: str) -> dict[str, Any]:
        with state.lock:
            return integration_of(integration_id).summary()

    @router.patch("/integrations/{integration_id}")
    async def update_integration(integration_id: str, request: Request) -> dict[str, Any]:
        body = await _json(request)
        with state.lock:
            integration = integration_of(integration_id)
            for key, value in body.items():
                if key == "setup_status" and value == "FINAL_SYNC_PENDING":
                    integration.start_final_sync()
                elif key == "setup_status" and value in SETUP_STATUSES:
                    integration.setup_status = value
                elif key in ("enabled", "raw_enums", "filtering_enabled") and isinstance(value, bool):
                    setattr(integration, key, value)
                else:
                    raise _bad(f"cannot set {key}={value!r}")
            return integration.summary()

    @router.post("/integrations/{integration_id}/sync")
    async def sync(integration_id: str, request: Request) -> dict[str, Any]:
        kind = (await _json(request)).get("type", "FULL")
        if kind not in ("FULL", "DELTA"):
            raise _bad("type is FULL or DELTA")
        with state.lock:
            integration = integration_of(integration_id)
            integration.queued.pop(kind, None)
            return integration.sync(kind).as_dict()

    @router.post("/integrations/{integration_id}/hire")
    async def hire(integration_id: str, request: Request) -> dict[str, Any]:
        body = await _json(request)
        return mutate(integration_id, None, lambda i: i.hire(**person_fields(i, body)))

    @router.post("/integrations/{integration_id}/employees/{reference}/change")
    async def change(integration_id: str, reference: str, request: Request) -> dict[str, Any]:
        body = await _json(request)
        return mutate(integration_id, reference, lambda i: i.change(reference, **person_fields(i, body)))

    @router.post("/integrations/{integration_id}/employees/change")
    async def change_many(integration_id: str, request: Request) -> dict[str, Any]:
        """Many changes in one request, all or none: `{"changes": [{"employee": <id>, <field>: <value>, …}, …]}`.
        A benchmark changing 10 % of 100,000 people otherwise spends half a minute on requests."""
        changes = (await _json(request)).get("changes")
        if not isinstance(changes, list) or not all(
            isinstance(item, dict) and isinstance(item.get("employee"), str) for item in changes
        ):
            raise _bad("changes must be a list of objects, each with an `employee` id")
        with state.lock:
            integration = integration_of(integration_id)
            wanted: list[tuple[str, dict[str, Any]]] = []
            for item in changes:
                reference = item["employee"]
                try:
                    integration.resolve_person(reference)
                except KeyError:
                    raise HTTPException(404, f"no person {reference!r}") from None
                fields = {name: value for name, value in item.items() if name != "employee"}
                try:
                    wanted.append((reference, person_fields(integration, fields)))
                except (TypeError, ValueError) as error:
                    raise _bad(str(error)) from None
            for reference, fields in wanted:
                integration.change(reference, **fields)
        return {"changed": len(wanted)}

    @router.post("/integrations/{integration_id}/employees/{reference}/terminate")
    async def terminate(integration_id: str, reference: str, request: Request) -> dict[str, Any]:
        end = _date((await _json(request)).get("termination_date"), "termination_date")
        if end is None:
            raise _bad("termination_date is required")
        return mutate(integration_id, reference, lambda i: i.terminate(reference, end))

    @router.post("/integrations/{integration_id}/employees/{reference}/delete")
    async def delete(integration_id: str, reference: str) -> dict[str, Any]:
        return mutate(integration_id, reference, lambda i: i.delete(reference))

    @router.post("/integrations/{integration_id}/mass-delete")
    async def mass_delete(integration_id: str, request: Request) -> dict[str, Any]:
        body = await _json(request)
        with state.lock:
            integration = integration_of(integration_id)
            try:
                deleted = integration.mass_delete(
                    count=body.get("count"), percent=body.get("percent"), seed=int(body.get("seed", 0))
                )
            except (TypeError, ValueError) as error:
                raise _bad(str(error)) from None
            return {"deleted": [integration.mirror.employee_id(local_id) for local_id in deleted]}

    @router.post("/faults")
    async def add_fault(request: Request) -> dict[str, Any]:
        try:
            fault = Fault(**await _json(request))
        except (TypeError, ValueError) as error:
            raise _bad(str(error)) from None
        return state.faults.add(fault).as_dict()

    @router.get("/faults")
    async def list_faults() -> dict[str, Any]:
        return {"faults": [fault.as_dict() for fault in state.faults.list()]}

    @router.delete("/faults")
    async def clear_faults() -> dict[str, Any]:
        state.faults.clear()
        return {"ok": True}

    @router.delete("/faults/{fault_id}")
    async def remove_fault(fault_id: str) -> dict[str, Any]:
        if not state.faults.remove(fault_id):
            raise HTTPException(404, f"no fault {fault_id!r}")
        return {"ok": True}

    @router.get("/requests")
    async def requests(path: str | None = None) -> dict[str, Any]:
        entries = [entry.as_dict() for entry in state.log.entries(path)]
        return {"count": len(entries), "requests": entries}

    @router.delete("/requests")
    async def clear_requests() -> dict[str, Any]:
        state.log.clear()
        return {"ok": True}

    return router
