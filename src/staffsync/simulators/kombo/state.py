"""Everything one simulated Kombo environment holds: API keys, integrations, connect links, faults, log.

One re-entrant lock guards the integrations: the server's event loop and a test thread calling the
Python API directly may both touch them. Faults and the request log have locks of their own, so
arming a fault never waits for a page to render.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from staffsync.simulators.kombo.faults import FaultBook, RequestLog
from staffsync.simulators.kombo.ids import integration_id as new_integration_id
from staffsync.simulators.kombo.ids import random_id
from staffsync.simulators.kombo.integration import Clock, Integration, SetupStatus, SimulatorSettings

LinkKind = Literal["connect", "relink", "setup"]
# Kombo's link lifetimes: EMBEDDED one hour, MAGIC_LINK one year; the exchange token is short-lived.
LINK_LIFETIMES = {"EMBEDDED": dt.timedelta(hours=1), "MAGIC_LINK": dt.timedelta(days=365)}
TOKEN_LIFETIME = dt.timedelta(minutes=10)


@dataclass(slots=True)
class ConnectLink:
    token: str
    kind: LinkKind
    expires_at: dt.datetime
    end_user_email: str | None
    organization_name: str
    origin_id: str | None
    tool: str | None
    enable_filtering: bool
    redirect_url: str | None
    integration_id: str | None = None
    used: bool = False


@dataclass(slots=True)
class ExchangeToken:
    integration_id: str
    expires_at: dt.datetime


class SimulatorState:
    def __init__(
        self,
        *,
        api_keys: Iterable[str] = ("sim-api-key",),
        settings: SimulatorSettings | None = None,
        environment_id: str | None = None,
        fault_seed: int | None = None,
    ) -> None:
        self.api_keys = set(api_keys)
        self.settings = settings or SimulatorSettings()
        self.environment_id = environment_id or random_id()
        self.clock = Clock()
        self.lock = threading.RLock()
        self.integrations: dict[str, Integration] = {}
        self.links: dict[str, ConnectLink] = {}
        self.tokens: dict[str, ExchangeToken] = {}
        self.faults = FaultBook(fault_seed)
        self.log = RequestLog()
        self._seeds = itertools.count(1)

    def create_integration(
        self,
        *,
        tool: str | None = None,
        size: int | None = None,
        seed: int | None = None,
        setup_status: SetupStatus = "COMPLETED",
        organization_name: str = "Acme",
        end_user_email: str | None = "it@acme.example",
        origin_id: str | None = None,
        filtering_enabled: bool = False,
        integration_id: str | None = None,
    ) -> Integration:
        tool = tool or self.settings.default_tool
        if size is not None and size < 0:
            raise ValueError("size cannot be negative")
        with self.lock:
            integration = Integration(
                id=integration_id or new_integration_id(tool),
                tool=tool,
                size=self.settings.default_size if size is None else size,
                seed=next(self._seeds) if seed is None else seed,
                setup_status=setup_status,
                organization_name=organization_name,
                end_user_email=end_user_email,
                origin_id=origin_id,
                filtering_enabled=filtering_enabled,
                clock=self.clock,
                settings=self.settings,
            )
            if integration.id in self.integrations:
                raise ValueError(f"integration {integration.id} already exists")
            self.integrations[integration.id] = integration
        return integration

    def integration(self, integration_id: str) -> Integration | None:
        with self.lock:
            return self.integrations.get(integration_id)

    def remove_integration(self, integration_id: str) -> bool:
        with self.lock:
            return self.integrations.pop(integration_id, None) is not None

    def issue_link(
        self,
        kind: LinkKind,
        *,
        link_type: str = "EMBEDDED",
        end_user_email: str | None,
        organization_name: str,
        origin_id: str | None = None,
        tool: str | None = None,
        enable_filtering: bool = False,
        redirect_url: str | None = None,
        integration_id: str | None = None,
    ) -> ConnectLink:
        link = ConnectLink(
            token=random_id(32),
            kind=kind,
            expires_at=self.clock.now() + LINK_LIFETIMES.get(link_type, LINK_LIFETIMES["EMBEDDED"]),
            end_user_email=end_user_email,
            organization_name=organization_name,
            origin_id=origin_id,
            tool=tool,
            enable_filtering=enable_filtering,
            redirect_url=redirect_url,
            integration_id=integration_id,
        )
        with self.lock:
            self.links[link.token] = link
        return link

    def issue_token(self, integration_id: str) -> str:
        token = random_id(40)
        with self.lock:
            self.tokens[token] = ExchangeToken(integration_id, self.clock.now() + TOKEN_LIFETIME)
        return token

    def redeem_token(self, token: str) -> Integration | None:
        """The integration a token names, once: the token is spent even when it has expired."""
        with self.lock:
            exchange = self.tokens.pop(token, None)
            if exchange is None or exchange.expires_at < self.clock.now():
                return None
            return self.integrations.get(exchange.integration_id)
