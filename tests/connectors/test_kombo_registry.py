"""The registry builds a Kombo connector from a stored connection, the installation's settings and the
account's time zone, and says plainly what is missing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from staffsync.connectors.kombo import DEFAULT_SERVER_URL, KomboConnector
from staffsync.connectors.registry import InvalidConnectorConfig, build_connector, get_provider
from staffsync.settings import Settings

API_KEY = "sk_test_c0ffee00c0ffee00c0ffee00c0ffee00"


@dataclass(frozen=True)
class StoredConnection:
    config: Mapping[str, Any] = field(default_factory=lambda: {"integration_id": "personio:CBNMt7dSNCzBdnRTx87dev4E"})
    provider: str = "kombo"
    id: str = "conn-1"
    created_at: dt.datetime = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **({"kombo_api_key": API_KEY} | values))


def test_kombo_is_an_installed_provider_that_needs_an_integration_id() -> None:
    provider = get_provider("kombo")

    assert provider.required_config == {"integration_id"}
    assert provider.config_keys == {"integration_id"}


def test_a_kombo_connection_gets_a_connector_for_its_integration_and_the_configured_server() -> None:
    connector = build_connector(
        StoredConnection(), settings=settings(kombo_base_url="http://127.0.0.1:9/v1"), timezone="Europe/Berlin"
    )

    assert isinstance(connector, KomboConnector)
    assert connector.integration_id == "personio:CBNMt7dSNCzBdnRTx87dev4E"
    assert connector.server_url == "http://127.0.0.1:9/v1"


def test_the_default_server_is_kombo_s_eu_api() -> None:
    connector = build_connector(StoredConnection(), settings=settings(), timezone="UTC")

    assert isinstance(connector, KomboConnector) and connector.server_url == DEFAULT_SERVER_URL


@pytest.mark.parametrize("key", [None, "   "])
def test_a_missing_api_key_is_a_plain_configuration_error(key: str | None) -> None:
    with pytest.raises(InvalidConnectorConfig, match=r"^STAFFSYNC_KOMBO_API_KEY is not set: "):
        build_connector(StoredConnection(), settings=settings(kombo_api_key=key), timezone="UTC")


@pytest.mark.parametrize("config", [{}, {"integration_id": ""}, {"integration_id": 42}])
def test_a_connection_without_an_integration_id_is_a_plain_configuration_error(config: dict[str, Any]) -> None:
    with pytest.raises(InvalidConnectorConfig, match="'integration_id' must be the id Kombo gave the integration"):
        build_connector(StoredConnection(config=config), settings=settings(), timezone="UTC")


def test_an_unknown_account_time_zone_is_a_configuration_error_without_the_key() -> None:
    with pytest.raises(InvalidConnectorConfig) as caught:
        build_connector(StoredConnection(), settings=settings(), timezone="Atlantis/Capital")

    assert str(caught.value) == "unknown time zone 'Atlantis/Capital'"
    assert API_KEY not in str(caught.value)


def test_the_memory_provider_ignores_the_settings() -> None:
    connection = StoredConnection(config={"size": 3}, provider="memory")

    connector = build_connector(connection, settings=settings(kombo_api_key=None), timezone="UTC")

    assert connector.provider == "memory"
