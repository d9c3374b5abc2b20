"""The dashboard's password, kept in the config only as a salted scrypt hash (stdlib only).

password_hash = "scrypt$16384$8$1$<salt, base64>$<key, base64>"
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from miserymeter.errors import ConfigError

SCHEME = "scrypt"
N_COST = 2**14
BLOCK_SIZE = 8
PARALLELISM = 1
N_SALT_BYTES = 16
N_KEY_BYTES = 32
MIN_PASSWORD_CHARS = 8


def hash_password(password: str) -> str:
    """A new salted hash of `password`, for the `[serve]` table's `password_hash`."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ConfigError(
            f"the password is too short: use at least {MIN_PASSWORD_CHARS} characters"
        )
    if _has_undecoded_bytes(password):
        raise ConfigError(
            "the password holds bytes that are not UTF-8 text (typed or piped in another "
            "encoding, e.g. Latin-1); give it in UTF-8, as the dashboard's login page sends it"
        )
    salt = secrets.token_bytes(N_SALT_BYTES)
    key = _derive(password, salt, N_COST, BLOCK_SIZE, PARALLELISM)
    parts = (SCHEME, str(N_COST), str(BLOCK_SIZE), str(PARALLELISM), _b64(salt), _b64(key))
    return "$".join(parts)


def check_hash(password_hash: str) -> None:
    """Refuse a `password_hash` that `hash_password` did not write."""
    _parse(password_hash)


def verify_password(password: str, password_hash: str) -> bool:
    """Whether `password` is the one `password_hash` was made from (constant-time compare)."""
    n_cost, block_size, parallelism, salt, key = _parse(password_hash)
    candidate = _derive(password, salt, n_cost, block_size, parallelism)
    return hmac.compare_digest(candidate, key)


def _has_undecoded_bytes(password: str) -> bool:
    """Whether `password` carries bytes Python could not decode (the terminal, a pipe or the
    command line gave another encoding than UTF-8): no password typed into a page is so."""
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _derive(password: str, salt: bytes, n_cost: int, block_size: int, parallelism: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n_cost,
        r=block_size,
        p=parallelism,
        maxmem=256 * n_cost * block_size,
        dklen=N_KEY_BYTES,
    )


def _parse(password_hash: str) -> tuple[int, int, int, bytes, bytes]:
    parts = password_hash.split("$")
    try:
        if len(parts) != 6 or parts[0] != SCHEME:
            raise ValueError(password_hash)
        n_cost, block_size, parallelism = (int(p) for p in parts[1:4])
        salt, key = base64.b64decode(parts[4], validate=True), base64.b64decode(parts[5])
        if n_cost < 2 or n_cost & (n_cost - 1) or not salt or len(key) != N_KEY_BYTES:
            raise ValueError(password_hash)
    except ValueError:
        raise ConfigError(
            "password_hash is not a hash `miserymeter hash-password` writes; run it again and "
            "copy its line into the [serve] table"
        ) from None
    return n_cost, block_size, parallelism, salt, key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
