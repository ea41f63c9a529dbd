"""Encryption of stored credentials (provider tokens, webhook secrets) under rotating Fernet keys.

The keys come from `STAFFSYNC_SECRET_KEYS` (first encrypts, all decrypt), or, for local use with no
configuration, from one key generated into `<data dir>/secret.key` on first use.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from staffsync.settings import Settings

KEY_FILE_NAME = "secret.key"

# Fernet has no associated data, so the owning account is sealed inside the ciphertext in front of
# the secret. NUL cannot occur in an account id, which keeps the split unambiguous.
_ACCOUNT_SEPARATOR = "\x00"


class SecretKeyError(Exception):
    """The encryption keys are missing, malformed or unsafely stored. Never carries key material."""


class CredentialError(Exception):
    """A stored credential cannot be used. The message never contains the secret or the token."""


def load_fernet(settings: Settings) -> MultiFernet:
    if settings.secret_keys is not None:
        keys = _parse_configured_keys(settings.secret_keys.get_secret_value())
    else:
        keys = [_load_or_create_key_file(settings.data_dir)]
    return MultiFernet(keys)


def _parse_configured_keys(raw: str) -> list[Fernet]:
    parts = [part.strip() for part in raw.split(",")]
    if not any(parts):
        raise SecretKeyError("STAFFSYNC_SECRET_KEYS is set but contains no key")
    keys: list[Fernet] = []
    for position, part in enumerate(parts, start=1):
        if not part:
            raise SecretKeyError(f"STAFFSYNC_SECRET_KEYS: key {position} is empty (stray comma?)")
        try:
            keys.append(Fernet(part))
        except ValueError:
            # `from None`: the underlying error may quote the bad input, which is key material.
            raise SecretKeyError(
                f"STAFFSYNC_SECRET_KEYS: key {position} is not a Fernet key "
                "(32 url-safe base64-encoded bytes, as made by Fernet.generate_key())"
            ) from None
    return keys


def _load_or_create_key_file(data_dir: Path) -> Fernet:
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / KEY_FILE_NAME
    if not path.exists():
        _publish_new_key(path)
    return _read_key_file(path)


def _publish_new_key(path: Path) -> None:
    """Write a fresh key to a private temporary file, then link it into place.

    O_EXCL with mode 0600 means the key is never readable by others, not even for an instant
    between create and chmod; linking a complete file means a concurrent process (two `serve`s
    starting together) either sees no key file or a whole one, never an empty one, and whichever
    links first wins for both.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(Fernet.generate_key())
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _read_key_file(path: Path) -> Fernet:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SecretKeyError(
            f"{path} is accessible by group or others (mode {mode:04o}); "
            f"restrict it with `chmod 600 {path}` or set STAFFSYNC_SECRET_KEYS"
        )
    try:
        return Fernet(path.read_bytes().strip())
    except ValueError:
        raise SecretKeyError(
            f"{path} does not hold a Fernet key; restore it from a backup, or set STAFFSYNC_SECRET_KEYS"
        ) from None


class CredentialCipher:
    """Encrypts a tenant's secrets so that a ciphertext only decrypts for the account it was made for.

    The binding guards against a row copied between accounts (a bug or a hand edit) silently
    lending one tenant's provider credentials to another.
    """

    def __init__(self, fernet: MultiFernet) -> None:
        self._fernet = fernet

    @classmethod
    def from_settings(cls, settings: Settings) -> CredentialCipher:
        return cls(load_fernet(settings))

    def encrypt(self, account_id: str, plaintext: str) -> str:
        if not account_id or _ACCOUNT_SEPARATOR in account_id:
            raise ValueError("account_id must be non-empty and must not contain NUL")
        sealed = f"{account_id}{_ACCOUNT_SEPARATOR}{plaintext}".encode()
        return self._fernet.encrypt(sealed).decode("ascii")

    def decrypt(self, account_id: str, token: str) -> str:
        sealed = self._open(token)
        owner, separator, plaintext = sealed.partition(_ACCOUNT_SEPARATOR)
        if not separator:
            raise CredentialError("stored credentials are malformed")
        if owner != account_id:
            raise CredentialError("credentials belong to another account")
        return plaintext

    def rotate(self, token: str) -> str:
        """Re-encrypt under the current first key, keeping the account binding as it is."""
        try:
            return self._fernet.rotate(_token_bytes(token)).decode("ascii")
        except InvalidToken:
            raise _undecryptable() from None

    def _open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(_token_bytes(token)).decode("utf-8")
        except (InvalidToken, UnicodeDecodeError):
            raise _undecryptable() from None


def _token_bytes(token: str) -> bytes:
    try:
        return token.encode("ascii")
    except UnicodeEncodeError:
        # Fernet tokens are ASCII; anything else is not one of ours.
        raise _undecryptable() from None


def _undecryptable() -> CredentialError:
    return CredentialError(
        "stored credentials cannot be decrypted: they are damaged, or were encrypted with a key "
        "that is no longer in STAFFSYNC_SECRET_KEYS"
    )
