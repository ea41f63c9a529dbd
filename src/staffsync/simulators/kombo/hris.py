"""`GET /v1/hris/*`: the five list endpoints staffsync reads, paginated by cursor.

Each endpoint names its sorted Kombo ids and a function that renders the record of an id when it
passes the request's filters; paging, cursors and the envelope are shared.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from staffsync.simulators.kombo.access import readable_integration
from staffsync.simulators.kombo.filters import Query, employee_filter, employment_filter, static_filter
from staffsync.simulators.kombo.integration import Integration
from staffsync.simulators.kombo.pagination import decode_cursor, encode_cursor, fingerprint, page, parse_page_size
from staffsync.simulators.kombo.state import SimulatorState
from staffsync.simulators.kombo.wire import success

Rendered = dict[str, Any]
Selection = tuple[Sequence[str], Callable[[str], Rendered | None]]


def _employees(integration: Integration, query: Query) -> Selection:
    mirror, renderer = integration.mirror, integration.renderer()
    matches = employee_filter(query, mirror, renderer)

    def accept(key: str) -> Rendered | None:
        record = mirror.employees[key]
        return renderer.employee(record) if matches(record) else None

    return mirror.employee_order, accept


def _employments(integration: Integration, query: Query) -> Selection:
    mirror, renderer = integration.mirror, integration.renderer()
    matches = employment_filter(query)

    def accept(key: str) -> Rendered | None:
        record = mirror.by_employment[key]
        return renderer.employment(record) if matches(record) else None

    return mirror.employment_order, accept


def _groups(integration: Integration, query: Query) -> Selection:
    mirror, renderer = integration.mirror, integration.renderer()
    matches = static_filter(query, with_types=True)

    def accept(key: str) -> Rendered | None:
        record = mirror.static_by_id[key]
        return renderer.group(record) if matches(record) else None

    return mirror.group_order, accept


def _legal_entities(integration: Integration, query: Query) -> Selection:
    mirror, renderer = integration.mirror, integration.renderer()
    matches = static_filter(query)

    def accept(key: str) -> Rendered | None:
        record = mirror.static_by_id[key]
        return renderer.legal_entity(record) if matches(record) else None

    return mirror.entity_order, accept


def _locations(integration: Integration, query: Query) -> Selection:
    mirror, renderer = integration.mirror, integration.renderer()
    matches = static_filter(query)

    def accept(key: str) -> Rendered | None:
        record = mirror.static_by_id[key]
        return renderer.location(record) if matches(record) else None

    return mirror.location_order, accept


_ENDPOINTS: dict[str, Callable[[Integration, Query], Selection]] = {
    "employees": _employees,
    "employments": _employments,
    "groups": _groups,
    "legal-entities": _legal_entities,
    "locations": _locations,
}


def hris_router(state: SimulatorState) -> APIRouter:
    router = APIRouter()

    def listing(request: Request, endpoint: str) -> Response:
        with state.lock:
            integration = readable_integration(state, request)
            query = Query(request.query_params.multi_items())
            size = parse_page_size(query.get("page_size"))
            # The integration is part of the fingerprint: a cursor is only good where it was issued.
            filters = fingerprint(f"{integration.id}/{endpoint}", query.items)
            now = state.clock.now()
            cursor = query.get("cursor")
            after = decode_cursor(cursor, filters, now=now, lifetime=state.settings.cursor_lifetime) if cursor else None
            order, accept = _ENDPOINTS[endpoint](integration, query)
            results, last = page(order, after, size, accept)
        next_cursor = encode_cursor(last, filters, now) if last is not None else None
        return success({"results": results, "next": next_cursor})

    @router.get("/hris/employees")
    async def employees(request: Request) -> Response:
        return listing(request, "employees")

    @router.get("/hris/employments")
    async def employments(request: Request) -> Response:
        return listing(request, "employments")

    @router.get("/hris/groups")
    async def groups(request: Request) -> Response:
        return listing(request, "groups")

    @router.get("/hris/legal-entities")
    async def legal_entities(request: Request) -> Response:
        return listing(request, "legal-entities")

    @router.get("/hris/locations")
    async def locations(request: Request) -> Response:
        return listing(request, "locations")

    return router
