"""What the schemathesis tests hold every answer of the REST API to, and how they load its OpenAPI document."""

from __future__ import annotations

from typing import Any

import schemathesis
from api_harness import API, ApiWorld
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# No server error, a status code the operation declares, the declared content type, and a body that validates
# against the declared schema.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def load_schema(world: ApiWorld) -> Any:
    """The document as a client fetches it, served in-process by the world's app (no network, no server)."""
    return schemathesis.openapi.from_asgi(API + "/openapi.json", world.client.app)


def admin_headers(world: ApiWorld) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.a.admin}"}
