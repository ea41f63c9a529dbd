"""Kombo's connect endpoints: the link an admin follows, and the one-time token exchanged afterwards.

These are installation-level calls (no integration yet), so they run on a client without an
integration id; their failures become the same plain-words ConnectorErrors as a sync's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from kombo import Kombo
from kombo.models import IntegrationTool
from pydantic import SecretStr

from staffsync.connectors.kombo.client import DEFAULT_SERVER_URL, DEFAULT_TIMEOUT_MS, retry_config
from staffsync.connectors.kombo.errors import KomboErrorTranslator


@dataclass(frozen=True, slots=True)
class KomboIntegration:
    id: str
    tool: str
    # What staffsync passed as end_user_origin_id when it asked for the link.
    origin_id: str | None
    setup_status: str


class KomboConnectClient:
    def __init__(
        self, api_key: str | SecretStr, *, server_url: str = DEFAULT_SERVER_URL, timeout_ms: int = DEFAULT_TIMEOUT_MS
    ) -> None:
        secret = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        self._secret = secret
        self._server_url = server_url.rstrip("/")
        self._timeout_ms = timeout_ms
        retry = retry_config(max_elapsed_ms=30_000)
        self._errors = KomboErrorTranslator(
            integration_id="(none yet)",
            server_url=self._server_url,
            timeout_s=timeout_ms / 1000,
            retry_window_s=30.0,
            secrets=(secret,),
        )
        self._retry = retry

    def create_link(self, *, origin_id: str, tool: str | None, admin_email: str, organisation: str) -> str:
        with self._client() as kombo:
            try:
                response = kombo.connect.create_connection_link(
                    end_user_email=admin_email,
                    end_user_organization_name=organisation,
                    end_user_origin_id=origin_id,
                    integration_category="HRIS",
                    # Kombo validates tool names itself; an unknown one comes back as its INPUT_INVALID.
                    integration_tool=cast(IntegrationTool, tool) if tool else None,
                    link_type="EMBEDDED",
                )
            except Exception as error:
                raise self._translate(error, "connect link") from None
        link: str = response.data.link
        return link

    def integration_by_token(self, token: str) -> KomboIntegration:
        with self._client() as kombo:
            try:
                data = kombo.connect.get_integration_by_token(token=token).data
            except Exception as error:
                raise self._translate(error, "connected integration") from None
        return KomboIntegration(data.id, data.tool, data.end_user_origin_id, str(data.setup_status))

    def _client(self) -> Kombo:
        secret = self._secret
        return Kombo(
            api_key=lambda: secret,
            server_url=self._server_url,
            retry_config=self._retry,
            timeout_ms=self._timeout_ms,
        )

    def _translate(self, error: Exception, what: str) -> Exception:
        translated = self._errors.translate(error, what=what)
        return translated if translated is not None else error
