"""`staffsync tokens`: API tokens shown once, listed without their secret, revoked at once."""

from __future__ import annotations

from cli_harness import Cli
from fastapi.testclient import TestClient

from staffsync.api.app import create_app


def test_a_token_is_shown_once_works_for_the_api_and_stops_working_when_revoked(cli: Cli) -> None:
    account_id = cli.account()
    created = cli.json("tokens", "create", "--account", account_id, "--name", "okta-bridge", "--role", "viewer")
    assert created["token"].startswith("ssk_") and created["role"] == "viewer"

    listed = cli.json("tokens", "list", "--account", account_id)
    assert created["token"] not in str(listed)
    assert {row["name"] for row in listed} >= {"okta-bridge"}

    api = TestClient(create_app(cli.db))
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert api.get("/api/v1/connections", headers=headers).status_code == 200
    assert api.post("/api/v1/connections", headers=headers, json={"name": "x", "provider": "memory"}).status_code == 403

    revoked = cli.json("tokens", "revoke", created["id"])
    assert revoked["revoked_at"]
    assert api.get("/api/v1/connections", headers=headers).status_code == 401


def test_unknown_account_or_token_is_one_clear_line(cli: Cli) -> None:
    missing = cli.run("tokens", "create", "--account", "nope", "--name", "x")
    assert missing.exit_code == 1 and "no account nope" in missing.stderr
    unknown = cli.run("tokens", "revoke", "nope")
    assert unknown.exit_code == 1 and "no API token nope" in unknown.stderr


def test_token_changes_from_the_cli_are_audited_as_the_operating_system_user(cli: Cli) -> None:
    import getpass

    from staffsync.storage import audit

    account_id = cli.account()
    created = cli.json("tokens", "create", "--account", account_id, "--name", "okta-bridge", "--role", "viewer")
    cli.json("tokens", "revoke", created["id"])
    with cli.db.session() as session:
        entries = audit.list_entries(session, account_id, object_type="api_token", object_id=created["id"])
    assert [e.action for e in entries] == ["api_token.updated", "api_token.created"]
    assert {e.actor for e in entries} == {f"cli:{getpass.getuser()}"}
    assert entries[0].changes["revoked_at"]["old"] is None
    assert created["token"] not in repr([e.changes for e in entries])
