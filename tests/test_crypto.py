from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from staffsync.crypto import (
    KEY_FILE_NAME,
    CredentialCipher,
    CredentialError,
    SecretKeyError,
    load_fernet,
)
from staffsync.settings import Settings


def local_settings(data_dir: Path) -> Settings:
    # secret_keys=None explicitly: an exported STAFFSYNC_SECRET_KEYS must not bypass the key file.
    return Settings(_env_file=None, data_dir=data_dir, secret_keys=None)


def keyed_settings(tmp_path: Path, *keys: bytes) -> Settings:
    joined = ",".join(key.decode() for key in keys)
    return Settings(_env_file=None, data_dir=tmp_path, secret_keys=SecretStr(joined))


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_without_configured_keys_a_key_file_is_generated_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    load_fernet(local_settings(data_dir))

    key_file = data_dir / KEY_FILE_NAME
    assert mode_of(key_file) == 0o600
    assert mode_of(data_dir) == 0o700
    Fernet(key_file.read_bytes())  # a real Fernet key
    assert [p.name for p in data_dir.iterdir()] == [KEY_FILE_NAME]  # no temporary file left behind


def test_the_generated_key_file_is_reused(tmp_path: Path) -> None:
    first = CredentialCipher.from_settings(local_settings(tmp_path))
    key_before = (tmp_path / KEY_FILE_NAME).read_bytes()

    second = CredentialCipher.from_settings(local_settings(tmp_path))

    assert (tmp_path / KEY_FILE_NAME).read_bytes() == key_before
    assert second.decrypt("acc_1", first.encrypt("acc_1", "token")) == "token"


def test_concurrent_first_starts_agree_on_one_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        ciphers = list(pool.map(lambda _: CredentialCipher(load_fernet(local_settings(tmp_path))), range(16)))

    token = ciphers[0].encrypt("acc_1", "token")
    assert all(cipher.decrypt("acc_1", token) == "token" for cipher in ciphers)
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE_NAME]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_readable_by_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    key_file = tmp_path / KEY_FILE_NAME
    key_file.write_bytes(Fernet.generate_key())
    key_file.chmod(mode)

    with pytest.raises(SecretKeyError, match=r"accessible by group or others .*chmod 600"):
        load_fernet(local_settings(tmp_path))


def test_a_key_file_without_a_key_is_refused_without_showing_its_content(tmp_path: Path) -> None:
    key_file = tmp_path / KEY_FILE_NAME
    key_file.write_text("not-a-key-but-maybe-something-private")
    key_file.chmod(0o600)

    with pytest.raises(SecretKeyError, match="does not hold a Fernet key") as raised:
        load_fernet(local_settings(tmp_path))

    assert "maybe-something-private" not in str(raised.value)


def test_configured_keys_are_used_and_no_key_file_is_written(tmp_path: Path) -> None:
    key = Fernet.generate_key()

    cipher = CredentialCipher.from_settings(keyed_settings(tmp_path, key))
    token = cipher.encrypt("acc_1", "token")

    assert not (tmp_path / KEY_FILE_NAME).exists()
    assert Fernet(key).decrypt(token.encode()) == b"acc_1\x00token"


def test_an_invalid_configured_key_is_refused_without_showing_it(tmp_path: Path) -> None:
    good = Fernet.generate_key()

    with pytest.raises(SecretKeyError, match="key 2 is not a Fernet key") as raised:
        load_fernet(keyed_settings(tmp_path, good, b"hunter2-not-a-key"))

    assert "hunter2" not in str(raised.value)
    assert raised.value.__cause__ is None


@pytest.mark.parametrize("raw", ["", " , ", "KEY,,KEY"])
def test_empty_configured_keys_are_refused(tmp_path: Path, raw: str) -> None:
    raw = raw.replace("KEY", Fernet.generate_key().decode())
    settings = Settings(_env_file=None, data_dir=tmp_path, secret_keys=SecretStr(raw))

    with pytest.raises(SecretKeyError):
        load_fernet(settings)


def test_round_trip_keeps_any_text(tmp_path: Path) -> None:
    cipher = CredentialCipher.from_settings(keyed_settings(tmp_path, Fernet.generate_key()))
    secret = "pässwörd \x00 with NUL, emoji 🔑 and, commas"

    assert cipher.decrypt("acc_1", cipher.encrypt("acc_1", secret)) == secret


def test_rotation_old_key_still_decrypts_and_the_new_key_encrypts(tmp_path: Path) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    before = CredentialCipher.from_settings(keyed_settings(tmp_path, old))
    old_token = before.encrypt("acc_1", "kombo-token")

    after = CredentialCipher.from_settings(keyed_settings(tmp_path, new, old))

    assert after.decrypt("acc_1", old_token) == "kombo-token"
    new_token = after.encrypt("acc_1", "kombo-token")
    Fernet(new).decrypt(new_token.encode())  # made with the first key
    with pytest.raises(CredentialError):
        before.decrypt("acc_1", new_token)


def test_rotate_re_encrypts_under_the_new_key_and_keeps_the_account(tmp_path: Path) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    old_token = CredentialCipher.from_settings(keyed_settings(tmp_path, old)).encrypt("acc_1", "s3cret")
    rotating = CredentialCipher.from_settings(keyed_settings(tmp_path, new, old))

    rotated = rotating.rotate(old_token)

    only_new = CredentialCipher.from_settings(keyed_settings(tmp_path, new))
    assert rotated != old_token
    assert only_new.decrypt("acc_1", rotated) == "s3cret"
    with pytest.raises(CredentialError, match="another account"):
        only_new.decrypt("acc_2", rotated)


def test_a_ciphertext_from_another_account_is_refused(tmp_path: Path) -> None:
    cipher = CredentialCipher.from_settings(keyed_settings(tmp_path, Fernet.generate_key()))
    token = cipher.encrypt("acc_1", "s3cret")

    with pytest.raises(CredentialError, match=r"^credentials belong to another account$"):
        cipher.decrypt("acc_2", token)


def test_an_account_id_that_prefixes_the_owner_is_still_another_account(tmp_path: Path) -> None:
    cipher = CredentialCipher.from_settings(keyed_settings(tmp_path, Fernet.generate_key()))
    token = cipher.encrypt("acc_10", "s3cret")

    with pytest.raises(CredentialError, match="another account"):
        cipher.decrypt("acc_1", token)


@pytest.mark.parametrize("account_id", ["", "acc\x00evil"])
def test_account_ids_that_would_make_the_binding_ambiguous_are_refused(tmp_path: Path, account_id: str) -> None:
    cipher = CredentialCipher.from_settings(keyed_settings(tmp_path, Fernet.generate_key()))

    with pytest.raises(ValueError, match="account_id"):
        cipher.encrypt(account_id, "s3cret")


@pytest.mark.parametrize("token", ["garbage", "", "gAAAAAB-truncated", "tökén"])
def test_an_invalid_token_raises_a_plain_credential_error(tmp_path: Path, token: str) -> None:
    cipher = CredentialCipher.from_settings(keyed_settings(tmp_path, Fernet.generate_key()))

    with pytest.raises(CredentialError, match="cannot be decrypted") as raised:
        cipher.decrypt("acc_1", token)
    assert raised.value.__cause__ is None

    with pytest.raises(CredentialError, match="cannot be decrypted"):
        cipher.rotate(token)


def test_a_token_under_a_removed_key_does_not_echo_the_token_or_secret(tmp_path: Path) -> None:
    token = CredentialCipher.from_settings(keyed_settings(tmp_path, Fernet.generate_key())).encrypt(
        "acc_1", "s3cret-value"
    )
    other = CredentialCipher.from_settings(keyed_settings(tmp_path, Fernet.generate_key()))

    with pytest.raises(CredentialError) as raised:
        other.decrypt("acc_1", token)

    assert token not in str(raised.value)
    assert "s3cret-value" not in str(raised.value)


def test_a_token_without_an_account_binding_is_refused(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    unbound = Fernet(key).encrypt(b"raw secret with no owner").decode()
    cipher = CredentialCipher.from_settings(keyed_settings(tmp_path, key))

    with pytest.raises(CredentialError, match="malformed"):
        cipher.decrypt("acc_1", unbound)
