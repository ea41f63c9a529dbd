"""Connection credentials are encrypted at rest, bound to their account."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from fakes import NOW
from staffsync.crypto import CredentialCipher, CredentialError
from staffsync.settings import Settings
from staffsync.storage import accounts, connections
from staffsync.storage.db import Database

SENTINEL = "sk_live_SENTINEL_a1b2c3d4e5"


def test_credentials_never_reach_the_database_in_clear_and_read_back(db: Database, tmp_path: Path) -> None:
    cipher = CredentialCipher.from_settings(
        Settings(_env_file=None, data_dir=tmp_path, secret_keys=Fernet.generate_key().decode())
    )
    with db.transaction() as session:
        account = accounts.create_account(session, "Acme", timezone="UTC", now=NOW)
        connection = connections.create_connection(session, account.id, name="HR", provider="test", now=NOW)
        connections.store_credentials(connection, SENTINEL, cipher)
        connection_id, account_id = connection.id, account.id

    with db.engine.connect() as raw:
        stored = raw.execute(text("SELECT credentials_encrypted FROM connections")).scalar_one()
    assert SENTINEL not in stored

    with db.session() as session:
        connection = connections.get_connection(session, account_id, connection_id)
        assert connection is not None
        assert connections.read_credentials(connection, cipher) == SENTINEL
        # A ciphertext copied onto another account's connection does not open there.
        connection.account_id = "another-account"
        with pytest.raises(CredentialError):
            connections.read_credentials(connection, cipher)
