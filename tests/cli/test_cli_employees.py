"""`staffsync employees list`: the directory's views (PRODUCT.md §5), in the account's time zone."""

from __future__ import annotations

import datetime as dt

from cli_harness import Cli
from sqlalchemy import select

from staffsync.domain.lifecycle import DEPARTED_VISIBLE_DAYS
from staffsync.services.employees import set_flag
from staffsync.storage import models


def synced(cli: Cli, *, size: int = 100, seed: int = 0) -> tuple[str, str]:
    account_id = cli.account()
    connection_id = cli.memory_connection(account_id, size=size, seed=seed)
    cli.json("sync", connection_id)
    return account_id, connection_id


def directory(cli: Cli) -> list[models.Employee]:
    with cli.db.transaction() as session:
        return list(session.execute(select(models.Employee)).scalars())


def ids(listing: dict[str, object]) -> set[str]:
    people = listing["employees"]
    assert isinstance(people, list)
    return {person["id"] for person in people}


def test_the_active_view_lists_everyone_not_detached(cli: Cli) -> None:
    account_id, _ = synced(cli, size=30)

    listing = cli.json("employees", "list", "--account", account_id)

    assert listing["view"] == "active"
    assert listing["total"] == 30
    assert ids(listing) == {e.id for e in directory(cli)}


def test_onboardings_are_people_starting_today_or_later(cli: Cli) -> None:
    account_id, _ = synced(cli)
    today = dt.datetime.now(dt.UTC).date()
    expected = {e.id for e in directory(cli) if e.start_date is not None and e.start_date >= today}

    listing = cli.json("employees", "list", "--account", account_id, "--view", "onboardings")

    assert expected
    assert ids(listing) == expected
    assert {person["lifecycle"] for person in listing["employees"]} <= {"upcoming", "active"}


def test_an_ignored_onboarding_leaves_the_list(cli: Cli) -> None:
    account_id, _ = synced(cli)
    today = dt.datetime.now(dt.UTC).date()
    arriving = next(e for e in directory(cli) if e.start_date is not None and e.start_date >= today)
    with cli.db.transaction() as session:
        set_flag(
            session,
            account_id,
            arriving.id,
            flag="onboarding_ignored",
            value=True,
            actor="test",
            now=dt.datetime.now(dt.UTC),
        )

    listing = cli.json("employees", "list", "--account", account_id, "--view", "onboardings", "--include-hidden")

    assert arriving.id not in ids(listing)


def test_offboardings_are_upcoming_and_recent_departures(cli: Cli) -> None:
    account_id, _ = synced(cli)
    cutoff = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=DEPARTED_VISIBLE_DAYS)
    expected = {e.id for e in directory(cli) if e.end_date is not None and e.end_date >= cutoff}

    listing = cli.json("employees", "list", "--account", account_id, "--view", "offboardings")

    assert expected
    assert ids(listing) == expected
    assert listing["diagnostics"] == []


def test_offboardings_need_a_continuous_end_date_and_say_so(cli: Cli) -> None:
    account_id, connection_id = synced(cli)
    cli.set_field(connection_id, "end_date", mode="import_once")

    listing = cli.json("employees", "list", "--account", account_id, "--view", "offboardings")
    table = cli.run("employees", "list", "--account", account_id, "--view", "offboardings")

    assert listing["employees"] == []
    assert [d["code"] for d in listing["diagnostics"]] == ["offboarding_needs_continuous_end_date"]
    assert listing["diagnostics"][0]["connection_id"] == connection_id
    assert "End date is not continuously synchronised" in table.stderr


def test_hidden_people_are_listed_only_when_asked(cli: Cli) -> None:
    account_id, _ = synced(cli, size=20)
    someone = directory(cli)[0]
    with cli.db.transaction() as session:
        set_flag(session, account_id, someone.id, flag="hidden", value=True, actor="test", now=dt.datetime.now(dt.UTC))

    default = cli.json("employees", "list", "--account", account_id)
    everyone = cli.json("employees", "list", "--account", account_id, "--include-hidden")

    assert someone.id not in ids(default)
    assert someone.id in ids(everyone)
    assert next(p for p in everyone["employees"] if p["id"] == someone.id)["hidden"] is True


def test_q_searches_names_and_emails(cli: Cli) -> None:
    account_id, _ = synced(cli, size=20)
    someone = directory(cli)[5]
    assert someone.last_name is not None

    listing = cli.json("employees", "list", "--account", account_id, "--q", someone.last_name.upper())
    by_email = cli.json("employees", "list", "--account", account_id, "--q", str(someone.work_email))

    assert someone.id in ids(listing)
    assert ids(by_email) == {someone.id}


def test_the_table_and_the_limit(cli: Cli) -> None:
    account_id, _ = synced(cli, size=20)

    result = cli.run("employees", "list", "--account", account_id, "--limit", "3")

    assert result.exit_code == 0
    assert "Showing 3 of 20" in result.stderr
    assert sum("@acme.example" in line for line in result.stdout.splitlines()) == 3


def test_an_unknown_account_fails_in_one_line(cli: Cli) -> None:
    result = cli.run("employees", "list", "--account", "nobody")

    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: no account nobody"
