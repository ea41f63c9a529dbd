"""Key rotation with MultiFernet: with keys "B,A" what A encrypted still decrypts, and `staffsync db rotate-keys`
re-encrypts every stored secret under B, after which A can be dropped."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import select
from typer.testing import CliRunner

from fakes import NOW
from staffsync.cli import app
from staffsync.crypto import CredentialCipher, CredentialError
from staffsync.settings import Settings
from staffsync.storage import accounts, models
from staffsync.storage import connections as connection_store
from staffsync.storage.db import Database
from staffsync.webhooks import endpoints
from staffsync.webhooks.secrets import active_secrets

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
PROVIDER_SECRET = "sk_live_ROTATION_SENTINEL"


def cipher(tmp_path: Path, keys: str) -> CredentialCipher:
    return CredentialCipher.from_settings(Settings(_env_file=None, data_dir=tmp_path, secret_keys=keys))


def _stored_under_a(db: Database, tmp_path: Path) -> tuple[str, str, str]:
    """An account with provider credentials and a webhook secret, both encrypted under key A alone."""
    under_a = cipher(tmp_path, KEY_A)
    with db.transaction() as session:
        account = accounts.create_account(session, "Acme", timezone="UTC", now=NOW)
        connection = connection_store.create_connection(session, account.id, name="HR", provider="test", now=NOW)
        connection_store.store_credentials(connection, PROVIDER_SECRET, under_a)
        created = endpoints.create_endpoint(
            session, account.id, url="http://127.0.0.1:9/in", cipher=under_a, now=NOW, allow_private=True
        )
        return account.id, connection.id, created.secret


def _read(db: Database, with_cipher: CredentialCipher, account_id: str, connection_id: str) -> tuple[str | None, str]:
    with db.session() as session:
        connection = connection_store.get_connection(session, account_id, connection_id)
        assert connection is not None
        endpoint = session.execute(select(models.WebhookEndpoint)).scalar_one()
        [secret] = active_secrets(with_cipher, account_id, endpoint.secrets, NOW)
        return connection_store.read_credentials(connection, with_cipher), secret


def _rotate(database_url: str, tmp_path: Path, keys: str) -> tuple[int, str]:
    env = {"STAFFSYNC_DATABASE_URL": database_url, "STAFFSYNC_DATA_DIR": str(tmp_path), "STAFFSYNC_SECRET_KEYS": keys}
    result = CliRunner().invoke(app, ["db", "rotate-keys", "--json"], env=env)
    return result.exit_code, result.stdout + result.stderr


def test_with_a_new_key_in_front_what_the_old_key_encrypted_still_decrypts(db: Database, tmp_path: Path) -> None:
    account_id, connection_id, webhook_secret = _stored_under_a(db, tmp_path)
    assert _read(db, cipher(tmp_path, f"{KEY_B},{KEY_A}"), account_id, connection_id) == (
        PROVIDER_SECRET,
        webhook_secret,
    )


def test_rotate_keys_re_encrypts_every_secret_under_the_first_key_so_the_old_key_can_go(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    account_id, connection_id, webhook_secret = _stored_under_a(db, tmp_path)
    exit_code, output = _rotate(database_url, tmp_path, f"{KEY_B},{KEY_A}")
    assert exit_code == 0, output
    assert json.loads(output) == {"connections": 1, "webhook_secrets": 1, "unreadable": []}
    assert _read(db, cipher(tmp_path, KEY_B), account_id, connection_id) == (PROVIDER_SECRET, webhook_secret)
    only_a = cipher(tmp_path, KEY_A)
    try:
        _read(db, only_a, account_id, connection_id)
    except CredentialError as error:
        assert "no longer in STAFFSYNC_SECRET_KEYS" in str(error)
    else:
        raise AssertionError("the old key alone still decrypts after the rotation")
    # The account binding survives the rotation.
    with db.session() as session:
        stored = session.execute(select(models.Connection.credentials_encrypted)).scalar_one()
    assert stored is not None
    try:
        cipher(tmp_path, KEY_B).decrypt("another-account", stored)
    except CredentialError as error:
        assert "another account" in str(error)
    else:
        raise AssertionError("a rotated ciphertext lost its account binding")


def test_rotate_keys_reports_a_secret_no_configured_key_opens_and_fails(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    _stored_under_a(db, tmp_path)
    exit_code, output = _rotate(database_url, tmp_path, KEY_B)
    assert exit_code == 1
    report = json.loads(output[: output.rindex("}") + 1])
    assert report["connections"] == 0 and report["webhook_secrets"] == 0
    assert len(report["unreadable"]) == 2
    assert PROVIDER_SECRET not in output and KEY_A not in output
