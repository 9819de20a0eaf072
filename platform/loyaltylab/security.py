"""Password hashing (argon2), signed single-purpose tokens and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from loyaltylab.errors import CsrfFailed

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
# A hash of a random password per hasher (made with its parameters): checked against when there
# is no account, so that an unknown address takes as long as a known one.
_dummy_hashes: dict[PasswordHasher, str] = {}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; without a hash as slow as a real check, and False."""
    if password_hash is None:
        dummy = _dummy_hashes.get(_hasher) or _dummy_hashes.setdefault(
            _hasher, _hasher.hash(secrets.token_urlsafe(16))
        )
        _matches(dummy, password)
        return False
    return _matches(password_hash, password)


def _matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Hashed with other parameters than today's (which an unknown address is checked with)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def new_token() -> str:
    """An unguessable URL-safe token (256 bits)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Tokens are stored hashed: a leaked database does not leak usable links."""
    return hashlib.sha256(token.encode()).hexdigest()


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


class SignedTokens:
    """Timed, purpose-bound signatures (e.g. password reset links)."""

    def __init__(self, secret_key: str) -> None:
        self._secret_key = secret_key

    def dumps(self, purpose: str, payload: Any) -> str:
        return URLSafeTimedSerializer(self._secret_key, salt=purpose).dumps(payload)

    def loads(self, purpose: str, token: str, *, max_age: int) -> Any | None:
        """The payload, or None when the token is forged, tampered with or expired."""
        try:
            return URLSafeTimedSerializer(self._secret_key, salt=purpose).loads(
                token, max_age=max_age
            )
        except (SignatureExpired, BadSignature):
            return None


CSRF_SESSION_KEY = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def csrf_token(session: dict[str, Any]) -> str:
    token = session.get(CSRF_SESSION_KEY)
    if not token:
        token = session[CSRF_SESSION_KEY] = secrets.token_urlsafe(32)
    return token


def csrf_matches(session: dict[str, Any], submitted: str | None) -> bool:
    expected = session.get(CSRF_SESSION_KEY)
    return bool(expected and submitted) and hmac.compare_digest(expected, submitted)


def require_csrf(
    session: dict[str, Any], *, header: str | None, form: Mapping[str, Any] | None
) -> None:
    """Raise CsrfFailed unless the request carries the session's CSRF token: in the
    ``X-CSRF-Token`` header, else in the form's ``csrf_token`` field."""
    submitted = header
    if submitted is None and form is not None:
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    if not csrf_matches(session, submitted):
        raise CsrfFailed("This form has expired. Please reload the page and try again.")
