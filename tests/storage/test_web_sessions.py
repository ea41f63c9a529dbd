"""Browser sign-in storage: a wrong email costs what a wrong password costs, and the argon2 hash that equalises
them is made on the first sign-in, not by every process that imports the module (every CLI command does)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from typing import Any

import pytest
from argon2 import PasswordHasher

from fakes import make_signed_up_account
from staffsync.storage import web_sessions
from staffsync.storage.db import Database


@pytest.fixture
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many argon2 hashes and verifications are computed, counted without changing what they answer."""
    calls: Counter[str] = Counter()
    hash_, verify = PasswordHasher.hash, PasswordHasher.verify

    def counted_hash(self: PasswordHasher, *args: Any, **kwargs: Any) -> str:
        calls["hash"] += 1
        return hash_(self, *args, **kwargs)

    def counted_verify(self: PasswordHasher, *args: Any, **kwargs: Any) -> bool:
        calls["verify"] += 1
        return verify(self, *args, **kwargs)

    monkeypatch.setattr(PasswordHasher, "hash", counted_hash)
    monkeypatch.setattr(PasswordHasher, "verify", counted_verify)
    return calls


IMPORT_AND_COUNT_HASHES = """
import argon2
made = []
hash_ = argon2.PasswordHasher.hash
argon2.PasswordHasher.hash = lambda self, *a, **k: made.append(1) or hash_(self, *a, **k)
import staffsync.storage.web_sessions, staffsync.api.app, staffsync.cli.app
print(len(made))
"""


def test_importing_the_application_computes_no_password_hash() -> None:
    # A process of its own: in this one the modules are long imported.
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_AND_COUNT_HASHES], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


def test_an_unknown_email_costs_one_argon2_verification_like_a_wrong_password(
    db: Database, argon2_calls: Counter[str]
) -> None:
    _, admin, _ = make_signed_up_account(db, "Acme")
    argon2_calls.clear()
    with db.transaction() as session:
        assert web_sessions.authenticate_admin(session, "nobody@acme.test", admin.password) is None
    assert argon2_calls["verify"] == 1
    argon2_calls.clear()
    with db.transaction() as session:
        assert web_sessions.authenticate_admin(session, admin.email, "not the password") is None
    assert argon2_calls["verify"] == 1
    assert argon2_calls["hash"] == 0, "the stand-in hash of the unknown email is made once, then kept"


def test_the_stand_in_hash_is_made_at_most_once_whatever_the_sign_ins(db: Database, argon2_calls: Counter[str]) -> None:
    _, admin, _ = make_signed_up_account(db, "Acme")
    argon2_calls.clear()
    for email, password in [(admin.email, "wrong"), ("nobody@acme.test", "x"), ("else@acme.test", "y")]:
        with db.transaction() as session:
            assert web_sessions.authenticate_admin(session, email, password) is None
    # None if an earlier test of this process made it already; never one per sign-in.
    assert argon2_calls["hash"] <= 1
