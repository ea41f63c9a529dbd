"""Endpoint signing secrets: creation, rotation and which ones sign right now.

Stored as a list of entries on the endpoint; only the `secret` value is encrypted (bound to the
account), the dates stay readable so that listing endpoints never needs the decryption key."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import Any

from staffsync.crypto import CredentialCipher

# B105 is a false positive here: the public prefix of every secret, not a secret.
SECRET_PREFIX = "whsec_"  # nosec B105
# Standard Webhooks asks for at least 24 random bytes; 32 matches the HMAC-SHA256 block strength.
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_entry(cipher: CredentialCipher, account_id: str, secret: str, *, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": secrets.token_hex(4),
        "secret": cipher.encrypt(account_id, secret),
        "created_at": now.isoformat(),
        "expires_at": None,
    }


def active_entries(entries: list[Any], now: dt.datetime) -> list[dict[str, Any]]:
    return [
        entry
        for entry in entries
        if entry.get("expires_at") is None or dt.datetime.fromisoformat(entry["expires_at"]) > now
    ]


def active_secrets(cipher: CredentialCipher, account_id: str, entries: list[Any], now: dt.datetime) -> list[str]:
    return [cipher.decrypt(account_id, entry["secret"]) for entry in active_entries(entries, now)]


def rotated(
    entries: list[Any], new_entry: dict[str, Any], *, now: dt.datetime, grace: dt.timedelta
) -> list[dict[str, Any]]:
    """Existing secrets keep signing until `now + grace` (or their own earlier end); the new one signs from now."""
    ends = (now + grace).isoformat()
    kept = [
        {**entry, "expires_at": min(entry["expires_at"], ends, key=dt.datetime.fromisoformat)}
        if entry.get("expires_at")
        else {**entry, "expires_at": ends}
        for entry in active_entries(entries, now)
    ]
    return [*kept, new_entry]
