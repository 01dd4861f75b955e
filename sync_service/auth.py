"""Users, passwords and session tokens.

Passwords: hashlib.scrypt with a per-user random salt, stored as
``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>`` so the cost can be raised later without breaking
old hashes. Session tokens: 32 random bytes (url-safe); the store keeps only sha256(token), so a
copy of the database does not let anyone log in.

Everything here is synchronous and takes a Session: callers run it on the database threads
(`db.read` / `db.write`), never on the event loop (scrypt costs ~50 ms on purpose).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.enums import Role
from sync_service.commands.registry import Actor
from sync_service.db.models import AuditEntry, SessionToken, User

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_DUMMY_HASH = ""  # computed lazily: unknown users cost as much as known ones (no user probing)


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, digest = stored.split("$")
        if algo != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=bytes.fromhex(salt),
                             n=int(n), r=int(r), p=int(p), dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if not _DUMMY_HASH:
        _DUMMY_HASH = hash_password("not-a-real-password")
    return _DUMMY_HASH


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def actor_of(user: User, session_id: str = "") -> Actor:
    domains = None if user.domains is None else frozenset(str(d) for d in user.domains)
    return Actor(username=user.username, role=user.role, domains=domains, session_id=session_id)


def audit(s: Session, actor: str, action: str, target: str = "", *, ok: bool = True,
          detail: dict[str, Any] | None = None, ts: float | None = None) -> None:
    s.add(AuditEntry(ts=time.time() if ts is None else ts, actor=actor[:64], action=action[:64],
                     target=target[:200], detail=detail or {}, ok=ok))


@dataclass(frozen=True)
class Login:
    """A successful handshake: who, and the session token the Welcome frame hands back."""

    user: User
    actor: Actor
    token: str
    token_hash: str
    via: str  # "password" | "token"


class AuthFailed(Exception):
    def __init__(self, reason: str, username: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.username = username


def parse_basic(value: str) -> tuple[str, str]:
    try:
        raw = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthFailed("malformed basic credentials") from None
    user, sep, password = raw.partition(":")
    if not sep or not user:
        raise AuthFailed("malformed basic credentials")
    return user, password


def check_password(s: Session, username: str, password: str) -> User:
    """The user, if the password is right (read session: scrypt must not hold the writer)."""
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        verify_password(password, _dummy_hash())  # same cost as a real check: no user probing
        raise AuthFailed("unknown user or wrong password", username)
    if not verify_password(password, user.password_hash):
        raise AuthFailed("unknown user or wrong password", username)
    if user.disabled:
        raise AuthFailed("account disabled", username)
    s.expunge(user)
    return user


def check_token(s: Session, token: str) -> tuple[User, str]:
    """The user of a live session token (unknown, expired, revoked, disabled: AuthFailed)."""
    th = token_hash(token)
    row = s.get(SessionToken, th)
    if row is None:
        raise AuthFailed("unknown session token")
    if row.revoked:
        raise AuthFailed("session token revoked")
    if row.expires_ts < time.time():
        raise AuthFailed("session token expired")
    user = s.get(User, row.user_id)
    if user is None or user.disabled:
        raise AuthFailed("account disabled", user.username if user else "")
    s.expunge(user)
    return user, th


def open_session(s: Session, user: User, ttl_s: float) -> Login:
    """A new session token for a password login (write session), audited."""
    token = secrets.token_urlsafe(32)
    th = token_hash(token)
    now = time.time()
    s.add(SessionToken(token_hash=th, user_id=user.id, created_ts=now, expires_ts=now + ttl_s))
    audit(s, user.username, "login", detail={"via": "password", "session": th[:12]})
    return Login(user, actor_of(user, th[:16]), token, th, "password")


def resume_session(s: Session, user: User, token: str, th: str) -> Login:
    """A reconnect with a session token (write session): audited, same token."""
    audit(s, user.username, "login", detail={"via": "token", "session": th[:12]})
    return Login(user, actor_of(user, th[:16]), token, th, "token")


def revoke(s: Session, th: str, username: str) -> None:
    row = s.get(SessionToken, th)
    if row is not None:
        row.revoked = True
    audit(s, username, "logout", detail={"session": th[:12]})


def create_user(s: Session, username: str, password: str, role: Role | str, *,
                domains: list[str] | None = None, display_name: str = "",
                password_hash: str | None = None) -> User:
    """password_hash: already hashed (user.create hashes off the writer thread); else password is."""
    user = User(username=username, display_name=display_name,
                password_hash=password_hash or hash_password(password),
                role=str(Role(role)), domains=domains, disabled=False, created_ts=time.time())
    s.add(user)
    s.flush()
    return user
