"""SQL for accounts, their admin users and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from staffsync.storage import models

_hasher = PasswordHasher()


def create_account(session: Session, name: str, *, timezone: str, now: dt.datetime) -> models.Account:
    account = models.Account(id=str(uuid.uuid4()), name=name, timezone=timezone, created_at=now)
    session.add(account)
    session.flush()
    return account


def get_account(session: Session, account_id: str) -> models.Account | None:
    return session.get(models.Account, account_id)


def create_admin(
    session: Session, account_id: str, email: str, *, role: str, now: dt.datetime
) -> tuple[models.AdminUser, str]:
    """Returns the user and a one-time password: it is shown once and only its argon2 hash is kept."""
    password = secrets.token_urlsafe(15)
    user = models.AdminUser(
        id=str(uuid.uuid4()),
        account_id=account_id,
        email=email.strip().lower(),
        password_hash=_hasher.hash(password),
        role=role,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user, password


def create_token(
    session: Session, account_id: str, name: str, *, role: str, now: dt.datetime
) -> tuple[models.ApiToken, str]:
    """Returns the token row and the token itself, shown once; only its SHA-256 is stored."""
    secret = "ssk_" + secrets.token_urlsafe(32)
    token = models.ApiToken(
        id=str(uuid.uuid4()),
        account_id=account_id,
        name=name,
        prefix=secret[:10],
        token_hash=hash_token(secret),
        role=role,
        created_at=now,
    )
    session.add(token)
    session.flush()
    return token, secret


def hash_token(secret: str) -> str:
    # Tokens carry 256 bits of randomness: a fast hash is enough, unlike for passwords.
    return hashlib.sha256(secret.encode()).hexdigest()


def find_token(session: Session, secret: str) -> models.ApiToken | None:
    return session.execute(
        select(models.ApiToken).where(
            models.ApiToken.token_hash == hash_token(secret), models.ApiToken.revoked_at.is_(None)
        )
    ).scalar_one_or_none()


def list_tokens(session: Session, account_id: str) -> list[models.ApiToken]:
    return list(
        session.execute(
            select(models.ApiToken)
            .where(models.ApiToken.account_id == account_id)
            .order_by(models.ApiToken.created_at, models.ApiToken.id)
        ).scalars()
    )


def revoke_token(session: Session, account_id: str, token_id: str, *, now: dt.datetime) -> models.ApiToken | None:
    token = session.execute(
        select(models.ApiToken).where(models.ApiToken.account_id == account_id, models.ApiToken.id == token_id)
    ).scalar_one_or_none()
    if token is not None and token.revoked_at is None:
        token.revoked_at = now
    return token


def find_token_by_id(session: Session, token_id: str) -> models.ApiToken | None:
    """Unscoped, for operator tools that start from a token id alone (the CLI)."""
    return session.get(models.ApiToken, token_id)
