"""The application's routes as (methods, path template) pairs, whatever way FastAPI nests included routers.

FastAPI ≥ 0.16x keeps an included router as one opaque entry of `app.routes`; `iter_route_contexts` then
gives the effective routes. Metrics label requests with these templates, and the tenancy test walks them.
Also how the routers name their operations, and the OpenAPI links between them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from starlette.routing import compile_path


@dataclass(frozen=True, slots=True)
class RouteTemplate:
    methods: frozenset[str]
    path: str
    pattern: re.Pattern[str]


def route_templates(app: FastAPI) -> list[RouteTemplate]:
    found: list[RouteTemplate] = []
    for route in _effective_routes(app):
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            continue
        methods = getattr(route, "methods", None) or ()
        found.append(RouteTemplate(frozenset(methods), path, compile_path(path)[0]))
    return found


def _effective_routes(app: FastAPI) -> Iterable[object]:
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if iter_contexts is None:  # FastAPI before nested-router contexts: app.routes is already flat
        return list(app.routes)
    return list(iter_contexts(app.routes))


def operation_id(route: fastapi.routing.APIRoute) -> str:
    """The route function's name: stable whatever prefix the router is mounted under, so OpenAPI links and
    generated clients can name an operation (`get_connection`, not `get_connection_api_v1_connections__id__get`)."""
    return route.name


def links(*operation_ids: str, id_from: str = "$response.body#/id", parameter: str = "id") -> dict[str, dict[str, Any]]:
    """OpenAPI links from a response to operations whose path parameter (`id`) takes the object it names.

    `id_from` is the runtime expression of the id: the answer's own id by default, or e.g. the first item of a
    page (`$response.body#/items/0/id`). A client (and schemathesis' stateful tests) follows them."""
    return {
        target: {"operationId": target, "parameters": {parameter: id_from}, "description": f"`{target}` of this object"}
        for target in operation_ids
    }
