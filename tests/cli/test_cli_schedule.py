"""`staffsync connections pause/resume/schedule`, and the commands that pick the queue: `worker` runs only
with STAFFSYNC_QUEUE=procrastinate on PostgreSQL, `serve` refuses that queue without PostgreSQL."""

from __future__ import annotations

import datetime as dt

from cli_harness import Cli
from sqlalchemy import update

from staffsync.storage import models


def test_pause_and_resume_a_connection(cli: Cli) -> None:
    connection_id = cli.memory_connection(cli.account(), size=3)
    assert cli.json("connections", "show", connection_id)["next_sync_at"] is not None

    paused = cli.json("connections", "pause", connection_id)
    assert (paused["paused"], paused["next_sync_at"]) == (True, None)
    shown = cli.run("connections", "show", connection_id)
    assert "(paused)" in shown.stdout
    assert "not scheduled" in shown.stdout

    resumed = cli.json("connections", "resume", connection_id)
    assert resumed["paused"] is False
    assert resumed["next_sync_at"] is not None
    said = cli.run("connections", "resume", connection_id)
    assert said.exit_code == 0


def test_the_schedule_interval_is_changed_within_five_minutes_and_a_week(cli: Cli) -> None:
    connection_id = cli.memory_connection(cli.account(), size=3)
    assert cli.json("connections", "schedule", connection_id, "--every", "15")["schedule_minutes"] == 15
    too_often = cli.run("connections", "schedule", connection_id, "--every", "4")
    assert too_often.exit_code == 2
    assert cli.json("connections", "show", connection_id)["schedule_minutes"] == 15


def test_pausing_an_unknown_connection_is_one_clear_line(cli: Cli) -> None:
    missing = cli.run("connections", "pause", "no-such-connection")
    assert missing.exit_code == 1
    assert "no connection no-such-connection" in missing.stderr


def test_a_failing_connection_says_since_when_and_why(cli: Cli) -> None:
    connection_id = cli.memory_connection(cli.account(), size=3)
    with cli.db.transaction() as session:
        session.execute(
            update(models.Connection)
            .where(models.Connection.id == connection_id)
            .values(
                status="failing",
                status_message="The HR system is unavailable (503)",
                consecutive_failures=2,
                failing_since=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC),
            )
        )
    shown = cli.run("connections", "show", connection_id)
    assert "failing since 2026-03-02 09:00 UTC: The HR system is unavailable (503)" in " ".join(shown.stdout.split())
    document = cli.json("connections", "show", connection_id)
    assert (document["consecutive_failures"], document["failing_since"]) == (2, "2026-03-02T09:00:00+00:00")


def test_worker_needs_the_procrastinate_queue(cli: Cli) -> None:
    refused = cli.runner.invoke(cli_app(), ["worker", "--burst"], env=cli.env)
    assert refused.exit_code == 2
    assert "STAFFSYNC_QUEUE=procrastinate" in refused.stderr


def test_worker_and_serve_need_postgresql_for_the_procrastinate_queue(cli: Cli) -> None:
    env = {**cli.env, "STAFFSYNC_QUEUE": "procrastinate"}
    if not cli.db.is_sqlite:
        env["STAFFSYNC_DATABASE_URL"] = f"sqlite:///{env['STAFFSYNC_DATA_DIR']}/staffsync.db"
    worker = cli.runner.invoke(cli_app(), ["worker", "--burst"], env=env)
    assert worker.exit_code == 2
    assert "needs PostgreSQL" in worker.stderr
    serve = cli.runner.invoke(cli_app(), ["serve", "--port", "8765"], env=env)
    assert serve.exit_code == 2
    assert "needs PostgreSQL" in serve.stderr


def cli_app() -> object:
    from staffsync.cli import app

    return app
