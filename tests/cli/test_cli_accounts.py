"""`staffsync accounts create`: an account, its first admin and an API token, shown once."""

from __future__ import annotations

import json

from argon2 import PasswordHasher
from cli_harness import Cli, single_line
from sqlalchemy import func, select

from staffsync.storage import accounts as account_store
from staffsync.storage import models


def test_accounts_create_prints_the_id_the_one_time_password_and_a_working_token(cli: Cli) -> None:
    result = cli.run("accounts", "create", "Acme GmbH", "--timezone", "Europe/Berlin", "--admin-email", "It@Acme.test")

    assert result.exit_code == 0, result.stderr
    with cli.db.transaction() as session:
        account = session.execute(select(models.Account)).scalar_one()
        admin = session.execute(select(models.AdminUser)).scalar_one()
        assert account.name == "Acme GmbH"
        assert account.timezone == "Europe/Berlin"
        assert admin.email == "it@acme.test"
        assert account.id in result.stdout
        token = next(word for word in result.stdout.split() if word.startswith("ssk_"))
        found = account_store.find_token(session, token)
        assert found is not None and found.account_id == account.id
        password = result.stdout.split("Admin password")[1].split()[0]
        assert PasswordHasher().verify(admin.password_hash, password)
    assert "shown only this once" in result.stderr


def test_accounts_create_json_is_one_document_and_nothing_else_on_stdout(cli: Cli) -> None:
    result = cli.run("accounts", "create", "Acme", "--json")

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) >= {"account_id", "admin_email", "admin_password", "api_token"}
    assert document["timezone"] == "UTC"
    assert document["admin_email"] == "admin@acme.example"
    assert document["api_token"].startswith("ssk_")
    with cli.db.transaction() as session:
        assert account_store.get_account(session, document["account_id"]) is not None


def test_unknown_time_zone_is_bad_usage_and_creates_nothing(cli: Cli) -> None:
    result = cli.run("accounts", "create", "Acme", "--timezone", "Europe/Atlantis")

    assert result.exit_code == 2
    assert "Europe/Atlantis" in single_line(result.stderr)
    assert result.stdout == ""
    with cli.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(models.Account)) == 0


def test_admin_email_that_is_not_an_address_is_bad_usage(cli: Cli) -> None:
    result = cli.run("accounts", "create", "Acme", "--admin-email", "not-an-email")

    assert result.exit_code == 2
    assert "not-an-email" in single_line(result.stderr)
