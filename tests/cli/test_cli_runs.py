"""`staffsync runs approve|discard`: resolving a run the mass-change safeguard held."""

from __future__ import annotations

from cli_harness import Cli, single_line
from sqlalchemy import func, select

from staffsync.storage import models


def held_run(cli: Cli) -> tuple[str, str, str]:
    """30 people synced, then the source shrinks to 5: a full sync would detach 25 of 30 (> 20 %)."""
    account_id = cli.account()
    connection_id = cli.memory_connection(account_id, size=30, seed=1)
    cli.json("sync", connection_id)
    cli.set_config(connection_id, size=5)
    run = cli.json("sync", connection_id, "--full")
    assert run["status"] == "held", run
    assert run["hold_reasons"]
    return account_id, connection_id, run["run_id"]


def detached_count(cli: Cli) -> int:
    with cli.db.transaction() as session:
        return (
            session.scalar(
                select(func.count()).select_from(models.Employee).where(models.Employee.detached_at.is_not(None))
            )
            or 0
        )


def test_a_held_run_applies_nothing_and_explains_itself(cli: Cli) -> None:
    account_id = cli.account()
    connection_id = cli.memory_connection(account_id, size=30, seed=1)
    cli.json("sync", connection_id)
    cli.set_config(connection_id, size=5)

    result = cli.run("sync", connection_id, "--full")

    assert result.exit_code == 0
    assert "held" in result.stdout and "Held because" in result.stdout
    assert "staffsync runs approve" in result.stderr
    assert detached_count(cli) == 0


def test_approving_a_held_run_applies_its_plan(cli: Cli) -> None:
    account_id, _, run_id = held_run(cli)

    approved = cli.json("runs", "approve", run_id)
    detached = cli.json("employees", "list", "--account", account_id, "--view", "detached")
    active = cli.json("employees", "list", "--account", account_id)

    assert approved["run_id"] == run_id
    assert approved["status"] == "succeeded"
    assert approved["counts"]["detached"] >= 25
    assert detached["total"] == detached_count(cli) == approved["counts"]["detached"]
    assert all(person["detach_reason"] for person in detached["employees"])
    assert active["total"] == 30 - detached["total"]


def test_discarding_a_held_run_applies_nothing(cli: Cli) -> None:
    account_id, _, run_id = held_run(cli)

    discarded = cli.json("runs", "discard", run_id)

    assert discarded["status"] == "discarded"
    assert detached_count(cli) == 0
    assert cli.json("employees", "list", "--account", account_id)["total"] == 30


def test_a_resolved_run_cannot_be_resolved_again(cli: Cli) -> None:
    _, _, run_id = held_run(cli)
    cli.json("runs", "discard", run_id)

    result = cli.run("runs", "approve", run_id)

    assert result.exit_code == 1
    assert "is discarded, not held" in single_line(result.stderr)


def test_an_unknown_run_fails_in_one_line(cli: Cli) -> None:
    for verb in ("approve", "discard"):
        result = cli.run("runs", verb, "no-such-run")

        assert result.exit_code == 1
        assert single_line(result.stderr) == "Error: no sync run no-such-run"
