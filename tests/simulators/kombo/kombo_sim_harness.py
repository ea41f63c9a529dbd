"""Drives the Kombo simulator over real HTTP: the official SDK pointed at it, raw calls, the control API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from kombo import Kombo

from staffsync.simulators.kombo import SimulatorState
from staffsync.simulators.kombo.integration import Integration

API_KEY = "test-sim-key"


@dataclass
class Simulator:
    base: str
    state: SimulatorState
    # One client for raw calls: building an httpx.Client costs ~40 ms (its TLS context), a request ~3 ms.
    http: httpx.Client

    @property
    def api(self) -> str:
        return self.base + "/v1"

    def integration(self, size: int = 120, seed: int = 5, **options: Any) -> Integration:
        return self.state.create_integration(size=size, seed=seed, **options)

    def kombo(self, integration: Integration | str | None, **options: Any) -> Kombo:
        integration_id = integration.id if isinstance(integration, Integration) else integration
        return Kombo(
            api_key=options.pop("api_key", API_KEY), integration_id=integration_id, server_url=self.api, **options
        )

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"{self.base}/_control{path}", **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def fault(self, kind: str, **options: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.control("POST", "/faults", json={"kind": kind, **options})
        return result

    def requests(self, path: str = "/v1/hris/*") -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.control("GET", "/requests", params={"path": path})["requests"]
        return entries

    def headers(self, integration: Integration) -> dict[str, str]:
        return {"Authorization": f"Bearer {API_KEY}", "X-Integration-Id": integration.id}
