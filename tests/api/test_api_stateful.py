"""The REST API along the OpenAPI links of its own document: chains of calls a client makes, checked by schemathesis.

A created connection, webhook or policy is read, changed and deleted by the id its creation answered; a sync
started by POST is read, listed and resolved by its run id; the first person of a directory list is opened,
edited, hidden. Every answer along a chain must be no server error and conform to the document (status code,
content type, body schema), as in test_openapi_schema.py. And the links themselves must point at operations
and parameters that exist, or a client following them would be lost.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from api_harness import API, ApiWorld, open_sqlite_world
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import FlakyStrategyDefinition
from hypothesis.stateful import run_state_machine_as_test
from openapi_checks import CHECKS, admin_headers, load_schema
from schemathesis import Case, Response
from schemathesis.generation.stateful.state_machine import StepInput, StepOutput

from staffsync.api.app import create_app
from staffsync.storage.db import Database

# Scenarios of up to STEPS calls each: about 15 s of CPU. STAFFSYNC_SCHEMATHESIS_SCENARIOS=1000 for a deeper run.
SCENARIOS = int(os.environ.get("STAFFSYNC_SCHEMATHESIS_SCENARIOS", "100"))
STEPS = 10
# Runs of the state machine cut short by a replay that met a changed world (see below), at most.
ATTEMPTS = 20

# Chains a broken link (or a route that stopped answering its own link's id) would cut: from each source, some
# linked operation must have been followed to a successful answer. (start_sync → get_sync is not among them:
# whether a scenario gets to follow it depends on the timing of the background syncs, each start being refused
# with 409 while one runs and 429 past ten a minute; the links test checks those links.)
MUST_BE_FOLLOWED = {
    "create_connection": {"get_connection", "get_fields", "get_filters", "start_sync", "list_syncs"},
    # Deleting counts: once a scenario deletes the world's only webhook, later lists have no link to follow.
    "list_webhooks": {
        "get_webhook",
        "update_webhook",
        "rotate_webhook_secret",
        "list_webhook_deliveries",
        "delete_webhook",
    },
    "create_policy": {"get_policy", "replace_policy", "delete_policy", "list_policy_holders"},
    "list_employees": {"get_employee", "list_employee_history", "list_employee_assignments", "hide_employee"},
}

_RUNTIME_EXPRESSION = re.compile(r"^\$response\.body#(?P<pointer>(/[^/]+)+)$")


@pytest.fixture(scope="module")
def api_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorld]:
    yield from open_sqlite_world(tmp_path_factory.mktemp("stateful"))


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(Database("sqlite://")).openapi()


def _operations_by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: operation for methods in document["paths"].values() for operation in methods.values()
    }


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _points_into(document: dict[str, Any], schema: dict[str, Any], pointer: str) -> bool:
    """Whether a JSON pointer (`/items/0/id`) names a property the response schema declares."""
    for token in pointer.strip("/").split("/"):
        schema = _resolve(document, schema)
        if token.isdigit() and schema.get("type") == "array":
            schema = schema["items"]
        elif token in schema.get("properties", {}):
            schema = schema["properties"][token]
        else:
            return False
    return True


def test_every_link_names_a_real_operation_its_parameters_and_a_field_of_the_answer(document: dict[str, Any]) -> None:
    operations = _operations_by_id(document)
    assert len(operations) == sum(len(methods) for methods in document["paths"].values()), "operationIds repeat"
    followed: list[tuple[str, str]] = []
    for source, operation in operations.items():
        for status, response in operation["responses"].items():
            for name, link in response.get("links", {}).items():
                where = f"{source} [{status}] → {name}"
                target = operations.get(link["operationId"])
                assert target is not None, f"{where}: no operation {link['operationId']}"
                path_parameters = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
                # Every path parameter of the target comes from the link: a half-filled path is a 404 at best.
                assert set(link["parameters"]) == path_parameters, where
                body = response["content"]["application/json"]["schema"]
                for expression in link["parameters"].values():
                    found = _RUNTIME_EXPRESSION.match(expression)
                    assert found, f"{where}: {expression}"
                    assert _points_into(document, body, found["pointer"]), f"{where}: {expression} names no field"
                followed.append((source, link["operationId"]))
    assert {(source, target) for source, targets in MUST_BE_FOLLOWED.items() for target in targets} <= set(followed)
    assert {("start_sync", run) for run in ("get_sync", "list_sync_changes", "approve_sync", "discard_sync")} <= set(
        followed
    )


def test_the_operations_are_named_for_what_they_do(document: dict[str, Any]) -> None:
    """operationIds are part of the API: links and generated clients name operations by them."""
    operations = _operations_by_id(document)
    assert {"create_connection", "get_connection", "start_sync", "get_sync", "edit_employee"} <= set(operations)
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", name) for name in operations), sorted(operations)


def test_linked_chains_of_calls_answer_as_the_schema_says(api_world: ApiWorld) -> None:
    # Generated webhook URLs would be looked up in DNS: the webhook chains start from one made here.
    api_world.send("POST", "/webhooks", status=201, json={"url": "http://127.0.0.1:9/staffsync"})
    # Erasing the account's connection (found through list_connections) would leave every later scenario 404s;
    # test_openapi_schema.py runs it, last.
    schema = load_schema(api_world).exclude(method="DELETE", path=API + "/connections/{id}")
    # The document's own links only: schemathesis would add links it infers from names, which this test is not about.
    schema.config.phases.stateful.inference.algorithms = []
    headers = admin_headers(api_world)
    followed: Counter[tuple[str, str]] = Counter()
    failures: list[Exception] = []
    scenarios = 0

    def operation_id(label: str) -> str:
        method, path = label.split(" ", 1)
        name: str = schema[path][method].definition.raw["operationId"]
        return name

    class LinkedCalls(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            nonlocal scenarios
            scenarios += 1

        def before_call(self, case: Case) -> None:
            # Over any Authorization the case generated for the bearer scheme: the chains are an admin's.
            case.headers = {**(case.headers or {}), **headers}

        def validate_response(self, response: Response, case: Case, **kwargs: Any) -> None:
            try:
                case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)
            except Exception as failure:
                # Kept: Hypothesis replays a failure to report it, and the world it failed in has moved on.
                failures.append(failure)
                raise

        def step(self, input: StepInput) -> StepOutput:
            output = super().step(input)
            if input.transition is not None and input.is_applied and output.response.status_code < 300:
                # The transition's id reads `GET /api/v1/employees -> [200] get_employee -> GET /api/v1/employees/{id}`.
                source = input.transition.id.split(" -> ", 1)[0]
                followed[(operation_id(source), operation_id(input.case.operation.label))] += 1
            return output

    # The world persists across scenarios (a chain may end on a deleted webhook or a running sync), so a
    # sequence of choices Hypothesis replays can meet other answers and take other links than it first did:
    # Hypothesis calls that a flaky strategy and stops. The run then goes on from where it stopped.
    for _ in range(ATTEMPTS):
        try:
            run_state_machine_as_test(
                LinkedCalls,
                settings=settings(
                    max_examples=max(SCENARIOS - scenarios, 1),
                    stateful_step_count=STEPS,
                    derandomize=True,
                    database=None,
                    deadline=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck),
                ),
            )
        except FlakyStrategyDefinition:
            if failures or scenarios >= SCENARIOS:
                break
        else:
            break
    api_world.context.join_syncs(timeout=60)
    if failures:
        raise failures[0]
    assert scenarios >= SCENARIOS
    reached = {source: {target for (start, target) in followed if start == source} for source in MUST_BE_FOLLOWED}
    assert not [source for source, targets in MUST_BE_FOLLOWED.items() if not reached[source] & targets], followed
