"""Webhook fixtures: a verifying receiver on loopback, a cipher, an HTTP client, an account."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from cryptography.fernet import Fernet, MultiFernet
from webhook_harness import Hooks, Receiver, make_hooks, serve

from staffsync.crypto import CredentialCipher
from staffsync.storage.db import Database
from staffsync.webhooks.delivery import make_client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve(Receiver()) as running:
        yield running


@pytest.fixture
def cipher() -> CredentialCipher:
    return CredentialCipher(MultiFernet([Fernet(Fernet.generate_key())]))


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client() as made:
        yield made


@pytest.fixture
def hooks(db: Database, cipher: CredentialCipher, client: httpx.Client) -> Hooks:
    return make_hooks(db, cipher, client)
