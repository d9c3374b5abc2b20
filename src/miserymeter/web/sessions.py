"""Signed session cookies, the CSRF token they carry, and who may see what.

A session is a small JSON object signed with HMAC-SHA256 under a key made when the app starts
(so a restart logs everybody out): whether its holder gave the password, its CSRF token and
when it expires. Logging out revokes the session: its cookie, even copied before, is no
session any more (the signer remembers revoked tokens until they expire). Every visitor gets
one; every state-changing request must echo its CSRF token (the `X-CSRF-Token` header, or the
login form's field). The cookie is HttpOnly and SameSite=Strict.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass

COOKIE_NAME = "miserymeter_session"
CSRF_HEADER = "x-csrf-token"
SESSION_MAX_AGE_S = 30 * 24 * 3600


@dataclass(frozen=True)
class Session:
    """One visitor: `authenticated` once the password was given (or none is needed)."""

    authenticated: bool
    csrf_token: str
    expires_at_s: float


class SessionSigner:
    """Signs sessions into cookie values and reads them back, refusing forged or expired ones."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)
        self._revoked: dict[str, float] = {}  # CSRF token (unique per session): expiry
        self._lock = threading.Lock()

    def revoke(self, session: Session) -> None:
        """No cookie of `session` is accepted any more."""
        now = time.time()
        with self._lock:
            self._revoked = {t: e for t, e in self._revoked.items() if e > now}
            self._revoked[session.csrf_token] = session.expires_at_s

    def new(self, *, authenticated: bool) -> Session:
        """A new session with a fresh CSRF token."""
        return Session(authenticated, secrets.token_urlsafe(24), time.time() + SESSION_MAX_AGE_S)

    def dump(self, session: Session) -> str:
        payload = json.dumps(
            {"a": session.authenticated, "c": session.csrf_token, "e": session.expires_at_s}
        ).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{self._sign(body)}"

    def load(self, value: str | None) -> Session | None:
        """The session in a cookie value, or None if it is missing, forged, damaged or expired."""
        if not value or value.count(".") != 1:
            return None
        body, signature = value.split(".")
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            fields = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            session = Session(bool(fields["a"]), str(fields["c"]), float(fields["e"]))
        except (binascii.Error, ValueError, KeyError, TypeError):
            return None
        if session.expires_at_s <= time.time():
            return None
        with self._lock:
            return None if session.csrf_token in self._revoked else session

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def csrf_matches(session: Session, token: str | None) -> bool:
    """Whether `token` (from the request) is the session's CSRF token."""
    return token is not None and hmac.compare_digest(token.encode(), session.csrf_token.encode())
