"""SQL for browser sign-in: admin users' passwords, server-side sessions, flash messages, sign-in links.

Cookies and links carry random secrets; the database keeps only their SHA-256, like API tokens."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from staffsync.storage import models

# ASVS 4.0.3 3.3.2 (level 2): sign in again after 30 idle minutes, and after 12 hours whatever the activity.
SESSION_IDLE_TIMEOUT = dt.timedelta(minutes=30)
SESSION_LIFETIME = dt.timedelta(hours=12)
SIGN_IN_LINK_LIFETIME = dt.timedelta(minutes=10)
# Sliding expiry is refreshed at most this often: one write a minute, not one per page.
TOUCH_PRECISION = dt.timedelta(minutes=1)

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Compared against when no user has the email, so that a wrong email costs as long as a wrong password.
    Made on first use: an argon2 hash takes 64 MiB and a fifth of a second, which no CLI command should pay."""
    return _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who is behind a browser session; everything a page needs to scope and label its queries."""

    session_id: str
    account_id: str
    account_name: str
    timezone: str
    user_id: str
    email: str
    role: str
    csrf_token: str

    @property
    def actor(self) -> str:
        return f"admin:{self.email}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def authenticate_admin(session: Session, email: str, password: str) -> models.AdminUser | None:
    """The admin user with this email and password, in whichever account has one (emails are per account)."""
    # Made here, before either branch, so that the first sign-in after start costs the same with a wrong email
    # as with a wrong password.
    dummy_hash = _dummy_hash()
    candidates = session.scalars(
        select(models.AdminUser).where(models.AdminUser.email == email.strip().lower()).order_by(models.AdminUser.id)
    ).all()
    if not candidates:
        _verify(dummy_hash, password)
        return None
    for user in candidates:
        if _verify(user.password_hash, password):
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            return user
    return None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def set_password(session: Session, user: models.AdminUser, password: str) -> None:
    user.password_hash = _hasher.hash(password)
    # A new password signs every other browser out.
    session.execute(delete(models.WebSession).where(models.WebSession.admin_user_id == user.id))


def start_session(session: Session, user: models.AdminUser, *, now: dt.datetime) -> str:
    """A fresh session for a user who just proved who they are; returns the cookie value. Always a new id:
    a session id planted before sign-in (fixation) is never promoted."""
    secret = secrets.token_urlsafe(32)
    session.add(
        models.WebSession(
            id=_digest(secret),
            account_id=user.account_id,
            admin_user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            flashes=[],
            created_at=now,
            last_seen_at=now,
            expires_at=min(now + SESSION_IDLE_TIMEOUT, now + SESSION_LIFETIME),
        )
    )
    session.flush()
    return secret


def resume_session(session: Session, secret: str, *, now: dt.datetime) -> SignedIn | None:
    row = session.execute(
        select(models.WebSession, models.AdminUser, models.Account)
        .join(models.AdminUser, models.AdminUser.id == models.WebSession.admin_user_id)
        .join(models.Account, models.Account.id == models.WebSession.account_id)
        .where(models.WebSession.id == _digest(secret))
    ).one_or_none()
    if row is None:
        return None
    web_session, user, account = row
    if web_session.expires_at <= now:
        session.delete(web_session)
        return None
    if now - web_session.last_seen_at > TOUCH_PRECISION:
        web_session.last_seen_at = now
        web_session.expires_at = min(now + SESSION_IDLE_TIMEOUT, web_session.created_at + SESSION_LIFETIME)
    return SignedIn(
        session_id=web_session.id,
        account_id=account.id,
        account_name=account.name,
        timezone=account.timezone,
        user_id=user.id,
        email=user.email,
        role=user.role,
        csrf_token=web_session.csrf_token,
    )


def end_session(session: Session, session_id: str) -> None:
    session.execute(delete(models.WebSession).where(models.WebSession.id == session_id))


def add_flash(session: Session, session_id: str, kind: str, text: str) -> None:
    web_session = session.get(models.WebSession, session_id)
    if web_session is not None:
        web_session.flashes = [*web_session.flashes, {"kind": kind, "text": text}]


def pop_flashes(session: Session, session_id: str) -> list[dict[str, Any]]:
    web_session = session.get(models.WebSession, session_id)
    if web_session is None or not web_session.flashes:
        return []
    flashes = list(web_session.flashes)
    web_session.flashes = []
    return flashes


def create_sign_in_link(session: Session, user: models.AdminUser, *, now: dt.datetime) -> str:
    secret = secrets.token_urlsafe(32)
    session.add(
        models.SignInLink(
            id=_digest(secret),
            account_id=user.account_id,
            admin_user_id=user.id,
            expires_at=now + SIGN_IN_LINK_LIFETIME,
            used_at=None,
        )
    )
    session.flush()
    return secret


def redeem_sign_in_link(session: Session, secret: str, *, now: dt.datetime) -> models.AdminUser | None:
    """The link's user, once: a second use, or a use after it expired, signs nobody in."""
    link = session.get(models.SignInLink, _digest(secret), with_for_update=True)
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    link.used_at = now
    return session.get(models.AdminUser, link.admin_user_id)
