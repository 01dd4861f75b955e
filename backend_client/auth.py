"""Login state: the password is used for the first connection, the session token after.

The password stays in memory only (never written to disk) so that a token the service no
longer accepts (it restarted, or the session expired) can be replaced without asking the user
again. Without a password a rejected token means "login needed".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

# error codes the UI can show (loginFailed(str) carries one of these)
BAD_CREDENTIALS = "bad_credentials"
LOGIN_NEEDED = "login_needed"
FORBIDDEN = "forbidden"  # handshake refused for another reason (Origin, disabled account)


class LoginFailed(Exception):
    """The service refused our credentials. Not retried: the user must act.
    `message` is shown to the user: Chinese first, English after the slash."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class LoginNeeded(LoginFailed):
    def __init__(self, message: str = "登录已失效，请重新登录 / session expired; please log in again") -> None:
        super().__init__(LOGIN_NEEDED, message)


@dataclass
class Credentials:
    user: str
    password: str | None = None
    token: str | None = None

    def header(self) -> tuple[str, str] | None:
        """The Authorization header for the next handshake: the token if we have one."""
        if self.token:
            return ("Authorization", f"Bearer {self.token}")
        if self.password is not None:
            raw = f"{self.user}:{self.password}".encode()
            return ("Authorization", "Basic " + base64.b64encode(raw).decode("ascii"))
        return None

    def using_token(self) -> bool:
        return bool(self.token)

    def on_rejected(self) -> None:
        """The service answered 401 to the header we sent.

        A rejected token is dropped and, if the password is still held, the next attempt uses
        it. A rejected password (or nothing left to try) raises a typed error for the UI.
        """
        if self.token:
            self.token = None
            if self.password is None:
                raise LoginNeeded()
            return
        if self.password is not None:
            raise LoginFailed(BAD_CREDENTIALS, "用户名或密码错误 / wrong user name or password")
        raise LoginNeeded()

    def forget(self) -> None:
        self.password = None
        self.token = None


# ---- offline verification -------------------------------------------------------------------
# The offline cache opens without the service, so the service cannot check the password then.
# After each successful online login we keep a salted scrypt verifier of the password (never
# the password) beside the cache; the cache is shown only to someone who types the same
# password (or holds the same session token) again.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def make_verifier(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_verifier(password: str, verifier: str) -> bool:
    try:
        kind, salt_hex, digest_hex = verifier.split("$")
        if kind != "scrypt":
            return False
        digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), dklen=32, **_SCRYPT)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
