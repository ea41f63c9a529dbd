"""Identifiers in Kombo's style: 24 base58 characters, and `tool:<id>` for integrations.

Record ids are derived from the integration and the simulated record, so the same integration
always shows the same ids and tests can compute them; tokens and integration ids are random.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Final

_BASE58: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ID_LENGTH: Final = 24


# One digest byte per character, mapped through a 256-entry table: a C-speed `bytes.translate`
# instead of big-integer arithmetic, because 100,000 people need 200,000 ids. The slight bias
# towards the first 24 letters of the alphabet does not matter for ids that only need to be unique.
_BYTE_TO_CHAR: Final = bytes(ord(_BASE58[b % 58]) for b in range(256))


def kombo_id(namespace: str, kind: str, local_id: str) -> str:
    """The stable Kombo id of record `local_id` of model `kind` in integration `namespace`."""
    digest = hashlib.blake2b(f"{namespace}\x00{kind}\x00{local_id}".encode(), digest_size=ID_LENGTH).digest()
    return digest.translate(_BYTE_TO_CHAR).decode("ascii")


def random_id(length: int = ID_LENGTH) -> str:
    return "".join(secrets.choice(_BASE58) for _ in range(length))


def integration_id(tool: str) -> str:
    """`personio:CBNMt7dSNCzBdnRTx87dev4E`: the tool, a colon, and a random id (notes §2)."""
    return f"{tool}:{random_id()}"
