"""Bearer secrets for stations and users: 256 random bits, stored only as their SHA-256.

A fast hash is enough for a secret of that entropy (nothing to brute-force), and it
lets a request be checked with one dictionary lookup.
"""

from __future__ import annotations

import hashlib
import secrets

STATION_TOKEN_PREFIX = "scada_"
USER_TOKEN_PREFIX = "scadau_"


def new_secret(prefix: str) -> str:
    """``prefix`` + 43 URL-safe characters; the prefix tells a leaked secret's kind."""
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()
