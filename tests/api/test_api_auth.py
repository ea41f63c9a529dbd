"""Token authentication, roles, the error envelope, OpenAPI and metrics of the REST API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_harness import ApiWorld, open_world
from sqlalchemy import select, update

from staffsync.storage import models
from staffsync.storage.db import Database
from staffsync.sync.engine import utc_now


@pytest.fixture
def world(db: Database) -> Iterator[ApiWorld]:
    yield from open_world(db)


def test_a_request_without_a_token_is_401_in_the_error_envelope(world: ApiWorld) -> None:
    response = world.call("GET", "/employees")
    assert response.status_code == 401
    body = response.json()
    assert body["error"]["code"] == "unauthorized"
    assert body["error"]["details"] is None
    assert body["error"]["message"]


def test_an_unknown_token_is_401(world: ApiWorld) -> None:
    response = world.call("GET", "/connections", token="ssk_not-a-real-token")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_revoked_token_is_401(world: ApiWorld) -> None:
    assert world.call("GET", "/connections", token=world.a.admin).status_code == 200
    with world.db.transaction() as session:
        session.execute(
            update(models.ApiToken)
            .where(models.ApiToken.account_id == world.a.account_id, models.ApiToken.role == "admin")
            .values(revoked_at=utc_now())
        )
    response = world.call("GET", "/connections", token=world.a.admin)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_using_a_token_records_when_it_was_last_used(world: ApiWorld) -> None:
    world.get("/connections", token=world.a.viewer)
    with world.db.session() as session:
        tokens = session.execute(
            select(models.ApiToken).where(models.ApiToken.account_id == world.a.account_id)
        ).scalars()
        used = {token.role: token.last_used_at for token in tokens}
    assert used["viewer"] is not None


def test_a_viewer_reads_but_cannot_write(world: ApiWorld) -> None:
    assert world.call("GET", f"/connections/{world.connection_id}", token=world.a.viewer).status_code == 200
    response = world.call(
        "PATCH", f"/connections/{world.connection_id}", token=world.a.viewer, json={"name": "Renamed"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    created = world.call("POST", "/connections", token=world.a.viewer, json={"name": "X", "provider": "memory"})
    assert created.status_code == 403
    assert world.get(f"/connections/{world.connection_id}")["name"] == "Personio DE"


def test_an_invalid_body_is_422_invalid_request_with_details(world: ApiWorld) -> None:
    response = world.call("PATCH", f"/connections/{world.connection_id}", token=world.a.admin, json={"priority": 0})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"][0]["loc"] == ["body", "priority"]


def test_a_bad_cursor_is_400(world: ApiWorld) -> None:
    response = world.call("GET", "/employees", token=world.a.admin, params={"cursor": "not!a!cursor"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_an_unknown_path_is_404_in_the_envelope(world: ApiWorld) -> None:
    response = world.call("GET", "/nothing-here", token=world.a.admin)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_openapi_documents_the_bearer_scheme_and_the_error_envelope(world: ApiWorld) -> None:
    schema = world.client.get("/api/v1/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert any(scheme == {**scheme, "type": "http", "scheme": "bearer"} for scheme in schemes.values())
    assert "ErrorEnvelope" in schema["components"]["schemas"]
    patch = schema["paths"]["/api/v1/employees/{id}"]["patch"]
    assert patch["security"]
    assert patch["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorEnvelope")
    assert patch["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorEnvelope")
    for schema_name in schema["components"]["schemas"]:
        assert "hash" not in str(schema["components"]["schemas"][schema_name]).lower()
        assert "credentials" not in str(schema["components"]["schemas"][schema_name]).lower()


def test_metrics_count_requests_by_route_template_never_by_id(world: ApiWorld) -> None:
    world.get(f"/connections/{world.connection_id}")
    world.call("GET", "/employees")
    metrics = world.client.get("/metrics")
    assert metrics.status_code == 200
    text = metrics.text
    assert 'route="/api/v1/connections/{id}"' in text
    assert 'route="/api/v1/employees",status="401"' in text
    assert world.connection_id not in text


def test_healthz_still_answers_without_a_token(world: ApiWorld) -> None:
    assert world.client.get("/healthz").json() == {"status": "ok", "database": "ok"}
