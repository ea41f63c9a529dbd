"""The one settings object: environment variables prefixed `STAFFSYNC_`, and a `.env` file.

`get_settings()` builds a fresh object on every call, on purpose: nothing is cached at import
time, so a test that changes the environment (``monkeypatch.setenv("STAFFSYNC_DATA_DIR", ...)``)
sees its change on the next call. Tests that must not read the developer's `.env` or environment
build the object directly: ``Settings(_env_file=None, data_dir=tmp_path)`` (explicit arguments win
over environment variables). Long-running shells (the app, the worker) call `get_settings()` once at
start-up and pass the object down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from staffsync.domain.schedule import DEFAULT_INTERVAL_MINUTES, MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES

DATABASE_FILE_NAME = "staffsync.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STAFFSYNC_",
        env_file=".env",
        env_file_encoding="utf-8",
        # `STAFFSYNC_DATABASE_URL=` in a shell or `.env` means "use the default", not "empty URL".
        env_ignore_empty=True,
        # A `.env` is shared with other tools (and the test suite's own STAFFSYNC_TEST_* variables):
        # keys that are not ours must not stop the application from starting.
        extra="ignore",
    )

    data_dir: Path = Path(".staffsync")
    database_url: str | None = None
    secret_keys: SecretStr | None = None
    kombo_api_key: SecretStr | None = None
    kombo_base_url: str = "https://api.kombo.dev/v1"
    queue: Literal["embedded", "procrastinate"] = "embedded"
    sync_interval_minutes: int = Field(
        default=DEFAULT_INTERVAL_MINUTES, ge=MIN_INTERVAL_MINUTES, le=MAX_INTERVAL_MINUTES
    )
    # Webhook URLs resolving to loopback/private/link-local addresses are refused (SSRF); only a
    # self-hosted install whose receivers live on its own network should turn this on.
    webhooks_allow_private: bool = False
    # How long a failing webhook delivery is retried before it becomes a dead letter: long enough by default
    # to outlast a receiver's weekend outage; an installation whose subscribers are watched closely may shorten it.
    webhooks_retry_hours: int = Field(default=72, ge=1, le=30 * 24)
    # Each sync start and each preview calls the HR provider: these limits keep a script or a double-clicking admin
    # from spending the provider's quota. Per process; raise them when the provider's contract allows more.
    sync_starts_per_minute: int = Field(default=10, ge=1)
    previews_per_minute: int = Field(default=60, ge=1)

    @field_validator("data_dir")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        # `.env` files are not expanded by a shell, so `~/staffsync` would otherwise become a
        # directory literally named "~" under the working directory.
        return value.expanduser()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / DATABASE_FILE_NAME).as_posix()}"


def get_settings() -> Settings:
    return Settings()
