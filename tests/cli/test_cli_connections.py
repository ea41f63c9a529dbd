"""`staffsync connections add|list|show`: sources added without the UI flow."""

from __future__ import annotations

from cli_harness import Cli, single_line

from staffsync.cli import app
from staffsync.domain.fields import FieldSettings


def test_connections_add_list_and_show(cli: Cli) -> None:
    account_id = cli.account()

    added = cli.json(
        "connections",
        "add",
        "--account",
        account_id,
        "--provider",
        "memory",
        "--name",
        "Demo HR",
        "--priority",
        "2",
        "--size",
        "12",
        "--seed",
        "3",
    )
    listed = cli.json("connections", "list", "--account", account_id)
    shown = cli.json("connections", "show", added["id"])

    assert added["name"] == "Demo HR"
    assert added["provider"] == "memory"
    assert added["priority"] == 2
    assert added["config"] == {"size": 12, "seed": 3}
    assert added["status"] == "new"
    # Default field settings and no filters, as the contract says.
    assert added["field_settings"] == FieldSettings.defaults().to_mapping()
    assert added["filters"] == {"legal_entities": [], "employment_types": [], "teams": []}
    assert [c["id"] for c in listed["connections"]] == [added["id"]]
    assert shown["id"] == added["id"]
    assert shown["account_id"] == account_id
    assert shown["recent_runs"] == []
    assert "credentials_encrypted" not in shown


def test_connections_table_output_names_the_connection(cli: Cli) -> None:
    account_id = cli.account()
    connection_id = cli.memory_connection(account_id, size=5)

    listed = cli.run("connections", "list", "--account", account_id)
    shown = cli.run("connections", "show", connection_id)

    assert listed.exit_code == 0 and connection_id in listed.stdout
    assert shown.exit_code == 0
    assert "In-memory demo source" in shown.stdout
    assert "end_date" in shown.stdout


def test_a_second_connection_defaults_its_name_to_the_provider_and_integration_id(cli: Cli) -> None:
    account_id = cli.account()

    added = cli.json(
        "connections", "add", "--account", account_id, "--provider", "memory", "--integration-id", "acme-1"
    )

    assert added["name"] == "In-memory demo source acme-1"
    assert added["config"]["integration_id"] == "acme-1"


def test_a_kombo_connection_is_added_and_says_plainly_that_syncing_needs_the_api_key(cli: Cli) -> None:
    account_id = cli.account()

    added = cli.json("connections", "add", "--account", account_id, "--provider", "kombo", "--integration-id", "int-1")
    # An empty variable counts as unset (Settings.env_ignore_empty), whatever the developer's shell holds.
    result = cli.runner.invoke(app, ["sync", added["id"]], env={**cli.env, "STAFFSYNC_KOMBO_API_KEY": ""})

    assert added["provider"] == "kombo" and added["config"] == {"integration_id": "int-1"}
    assert result.exit_code == 1
    assert "STAFFSYNC_KOMBO_API_KEY is not set" in single_line(result.stderr)


def test_unknown_provider_is_bad_usage(cli: Cli) -> None:
    account_id = cli.account()

    result = cli.run("connections", "add", "--account", account_id, "--provider", "nope")

    assert result.exit_code == 2
    assert "Unknown provider 'nope'" in single_line(result.stderr)


def test_a_negative_population_size_is_bad_usage(cli: Cli) -> None:
    account_id = cli.account()

    result = cli.run("connections", "add", "--account", account_id, "--provider", "memory", "--size", "-1")

    assert result.exit_code == 2


def test_adding_to_an_unknown_account_fails_in_one_line(cli: Cli) -> None:
    result = cli.run("connections", "add", "--account", "no-such-account", "--provider", "memory")

    assert result.exit_code == 1
    assert single_line(result.stderr) == "Error: no account no-such-account"


def test_an_unknown_connection_id_fails_with_one_line_and_no_traceback(cli: Cli) -> None:
    for command in (["connections", "show"], ["sync"], ["preview"]):
        result = cli.run(*command, "no-such-connection")

        assert result.exit_code == 1, command
        assert single_line(result.stderr) == "Error: no connection no-such-connection"
        assert result.stdout == ""
