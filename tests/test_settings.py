from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from staffsync.settings import Settings, get_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the developer's STAFFSYNC_* variables nor a `.env` in the checkout may leak in."""
    for name in list(os.environ):
        if name.startswith("STAFFSYNC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_need_no_configuration() -> None:
    settings = Settings()

    assert settings.data_dir == Path(".staffsync")
    assert settings.database_url is None
    assert settings.resolved_database_url == "sqlite:///.staffsync/staffsync.db"
    assert settings.secret_keys is None
    assert settings.kombo_api_key is None
    assert settings.kombo_base_url == "https://api.kombo.dev/v1"
    assert settings.queue == "embedded"
    assert settings.sync_interval_minutes == 60
    assert settings.webhooks_retry_hours == 72
    assert (settings.sync_starts_per_minute, settings.previews_per_minute) == (10, 60)


def test_environment_variables_override_every_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFFSYNC_DATA_DIR", "/srv/staffsync")
    monkeypatch.setenv("STAFFSYNC_DATABASE_URL", "postgresql+psycopg://app@db/staffsync")
    monkeypatch.setenv("STAFFSYNC_SECRET_KEYS", "key-one,key-two")
    monkeypatch.setenv("STAFFSYNC_KOMBO_API_KEY", "kombo-secret")
    monkeypatch.setenv("STAFFSYNC_KOMBO_BASE_URL", "http://127.0.0.1:8100/v1")
    monkeypatch.setenv("STAFFSYNC_QUEUE", "procrastinate")
    monkeypatch.setenv("STAFFSYNC_SYNC_INTERVAL_MINUTES", "15")
    monkeypatch.setenv("STAFFSYNC_WEBHOOKS_RETRY_HOURS", "12")
    monkeypatch.setenv("STAFFSYNC_SYNC_STARTS_PER_MINUTE", "3")
    monkeypatch.setenv("STAFFSYNC_PREVIEWS_PER_MINUTE", "600")

    settings = Settings()

    assert settings.data_dir == Path("/srv/staffsync")
    assert settings.resolved_database_url == "postgresql+psycopg://app@db/staffsync"
    assert settings.secret_keys is not None
    assert settings.secret_keys.get_secret_value() == "key-one,key-two"
    assert settings.kombo_api_key is not None
    assert settings.kombo_api_key.get_secret_value() == "kombo-secret"
    assert settings.kombo_base_url == "http://127.0.0.1:8100/v1"
    assert settings.queue == "procrastinate"
    assert settings.sync_interval_minutes == 15
    assert settings.webhooks_retry_hours == 12
    assert (settings.sync_starts_per_minute, settings.previews_per_minute) == (3, 600)


def test_database_url_is_derived_from_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "state")

    assert settings.resolved_database_url == f"sqlite:///{tmp_path.as_posix()}/state/staffsync.db"
    # Four slashes: SQLAlchemy's spelling of an absolute SQLite path.
    assert settings.resolved_database_url.startswith("sqlite:////")


def test_an_empty_variable_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFFSYNC_DATABASE_URL", "")
    monkeypatch.setenv("STAFFSYNC_DATA_DIR", "")

    settings = Settings()

    assert settings.database_url is None
    assert settings.resolved_database_url == "sqlite:///.staffsync/staffsync.db"


def test_a_dotenv_file_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "STAFFSYNC_QUEUE=procrastinate\nSTAFFSYNC_TEST_DATABASE_URL=postgresql+psycopg://x@y/\nOTHER=1\n"
    )

    assert Settings().queue == "procrastinate"


def test_environment_wins_over_the_dotenv_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("STAFFSYNC_SYNC_INTERVAL_MINUTES=5\n")
    monkeypatch.setenv("STAFFSYNC_SYNC_INTERVAL_MINUTES", "30")

    assert Settings().sync_interval_minutes == 30


def test_tests_can_ignore_the_dotenv_file_and_pass_values(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("STAFFSYNC_QUEUE=procrastinate\n")

    settings = Settings(_env_file=None, sync_interval_minutes=5)

    assert settings.queue == "embedded"
    assert settings.sync_interval_minutes == 5


def test_get_settings_sees_environment_changes_without_a_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_settings().queue == "embedded"

    monkeypatch.setenv("STAFFSYNC_QUEUE", "procrastinate")

    assert get_settings().queue == "procrastinate"


def test_home_directory_in_data_dir_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("STAFFSYNC_DATA_DIR", "~/staffsync-data")

    assert Settings().data_dir == tmp_path / "staffsync-data"


@pytest.mark.parametrize("minutes", ["0", "-5", "4", "10081"])
def test_sync_interval_is_five_minutes_to_a_week(monkeypatch: pytest.MonkeyPatch, minutes: str) -> None:
    monkeypatch.setenv("STAFFSYNC_SYNC_INTERVAL_MINUTES", minutes)

    with pytest.raises(ValidationError, match="sync_interval_minutes"):
        Settings()


@pytest.mark.parametrize("hours", ["0", "721"])
def test_a_webhook_retry_window_is_an_hour_to_thirty_days(monkeypatch: pytest.MonkeyPatch, hours: str) -> None:
    monkeypatch.setenv("STAFFSYNC_WEBHOOKS_RETRY_HOURS", hours)

    with pytest.raises(ValidationError, match="webhooks_retry_hours"):
        Settings()


def test_an_unknown_queue_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFFSYNC_QUEUE", "celery")

    with pytest.raises(ValidationError, match="queue"):
        Settings()


def test_secrets_do_not_show_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFFSYNC_SECRET_KEYS", "very-secret-key")
    monkeypatch.setenv("STAFFSYNC_KOMBO_API_KEY", "very-secret-api-key")

    shown = repr(Settings())

    assert "very-secret" not in shown
