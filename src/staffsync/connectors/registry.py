"""Provider name → connector factory: the one place a connector is wired in (ARCHITECTURE.md §4.9).

Shells (CLI, API, tasks) hand over a stored connection and get an `HRConnector` back; they never
import a connector module themselves. Adding a provider is one `Provider` entry in `PROVIDERS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import SecretStr

from staffsync.connectors.base import HRConnector


class ConnectionSpec(Protocol):
    """What a factory may read of a stored connection. A Protocol, so connectors stay free of the ORM."""

    @property
    def id(self) -> str: ...

    @property
    def provider(self) -> str: ...

    @property
    def config(self) -> Mapping[str, Any]: ...

    @property
    def created_at(self) -> dt.datetime: ...


class ProviderSettings(Protocol):
    """The installation-wide settings factories may read (`staffsync.settings.Settings` has them): a
    Protocol, so connectors do not depend on how settings are loaded."""

    @property
    def kombo_api_key(self) -> SecretStr | None: ...

    @property
    def kombo_base_url(self) -> str: ...


class ConnectorFactory(Protocol):
    """Builds the connector of one stored connection. `timezone` is the account's: providers that send
    datetimes for calendar days (Kombo's start and termination dates) read them in it."""

    def __call__(self, connection: ConnectionSpec, *, settings: ProviderSettings, timezone: str) -> HRConnector: ...


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    label: str
    description: str
    build: ConnectorFactory
    # The non-secret settings a connection of this provider keeps in its `config`: the keys it reads,
    # those it cannot do without, and the defaults stored when the admin gives none.
    config_keys: frozenset[str] = frozenset()
    required_config: frozenset[str] = frozenset()
    config_defaults: Mapping[str, Any] = field(default_factory=dict)


class UnknownProvider(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Unknown provider {name!r}: the installed providers are {', '.join(sorted(PROVIDERS))}")
        self.name = name


class ProviderNotInstalled(LookupError):
    """A provider staffsync knows by name whose connector this installation does not ship yet."""

    def __init__(self, name: str, label: str) -> None:
        super().__init__(
            f"The {label} connector is not installed yet: the installed providers are {', '.join(sorted(PROVIDERS))}"
        )
        self.name = name


class InvalidConnectorConfig(ValueError):
    pass


MEMORY_DEFAULT_SIZE = 100
# The demo source builds its whole company in memory, again for every sync and preview: any admin could otherwise
# ask for a size that exhausts the server. 100,000 people take about 100 MB and a few seconds.
MEMORY_MAX_SIZE = 100_000


def _build_memory(connection: ConnectionSpec, *, settings: ProviderSettings, timezone: str) -> HRConnector:
    # Imported here, as each provider's connector is: a sync pays only for the provider it fetches from.
    from staffsync.connectors.memory import InMemoryConnector
    from staffsync.simulators.population import generate_population

    # Needs neither: the demo source has no credentials and its rows hold calendar dates, not instants.
    config = connection.config
    size = _non_negative_int(config, "size", MEMORY_DEFAULT_SIZE, maximum=MEMORY_MAX_SIZE)
    seed = _non_negative_int(config, "seed", 0)
    # The population is anchored to the day the connection was made: the same connection returns the
    # same people on every later day, so a second sync changes nothing, as with a real unchanged source.
    today = connection.created_at.date()
    return InMemoryConnector.from_population(generate_population(size, seed=seed, today=today))


def _non_negative_int(config: Mapping[str, Any], key: str, default: int, *, maximum: int | None = None) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidConnectorConfig(f"'{key}' must be a whole number of at least 0, not {value!r}")
    if maximum is not None and value > maximum:
        raise InvalidConnectorConfig(f"'{key}' must be at most {maximum:,}, not {value:,}")
    return value


def _build_kombo(connection: ConnectionSpec, *, settings: ProviderSettings, timezone: str) -> HRConnector:
    # Imported here: the SDK's models take about a second to import, and only Kombo connections need them.
    from staffsync.connectors.kombo import KomboConnector

    api_key = settings.kombo_api_key
    if api_key is None or not api_key.get_secret_value().strip():
        raise InvalidConnectorConfig(
            "STAFFSYNC_KOMBO_API_KEY is not set: Kombo connections need the API key of the Kombo environment "
            "(Kombo dashboard → Secrets)"
        )
    integration_id = connection.config.get("integration_id")
    if not isinstance(integration_id, str) or not integration_id.strip():
        raise InvalidConnectorConfig(
            f"'integration_id' must be the id Kombo gave the integration (e.g. personio:CBNMt7dSNCzBdnRTx87dev4E), "
            f"not {integration_id!r}"
        )
    try:
        return KomboConnector(api_key, integration_id.strip(), server_url=settings.kombo_base_url, timezone=timezone)
    except ValueError as error:
        raise InvalidConnectorConfig(str(error)) from None


PROVIDERS: Mapping[str, Provider] = {
    "memory": Provider(
        name="memory",
        label="In-memory demo source",
        description="A seeded population of fictional people, generated in-process: local syncs and demos",
        build=_build_memory,
        # `integration_id` is accepted (and only labels the source) so that scripts written for Kombo
        # run unchanged against the demo source.
        config_keys=frozenset({"integration_id", "size", "seed"}),
        config_defaults={"size": MEMORY_DEFAULT_SIZE, "seed": 0},
    ),
    "kombo": Provider(
        name="kombo",
        label="Kombo",
        description="Any HR system Kombo connects (Personio, HiBob, BambooHR, Workday, …), through Kombo's "
        "unified HRIS API; the API key comes from STAFFSYNC_KOMBO_API_KEY",
        build=_build_kombo,
        config_keys=frozenset({"integration_id"}),
        required_config=frozenset({"integration_id"}),
    ),
}

# Providers of the product's catalogue (PRODUCT.md §1) whose connector is not part of this build yet:
# naming them gives a plain "not installed" instead of "unknown".
_PLANNED: Mapping[str, str] = {}


def get_provider(name: str) -> Provider:
    provider = PROVIDERS.get(name)
    if provider is not None:
        return provider
    if name in _PLANNED:
        raise ProviderNotInstalled(name, _PLANNED[name])
    raise UnknownProvider(name)


def build_connector(connection: ConnectionSpec, *, settings: ProviderSettings, timezone: str) -> HRConnector:
    """Raises UnknownProvider, ProviderNotInstalled or InvalidConnectorConfig, each in plain words.
    `timezone` is the time zone of the connection's account."""
    return get_provider(connection.provider).build(connection, settings=settings, timezone=timezone)
