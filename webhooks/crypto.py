"""Endpoint secrets: generated, encrypted at rest, and used to sign deliveries.

Storage: a secret must be readable to sign with, so it is encrypted, not hashed: Fernet (AES-128-CBC +
HMAC-SHA256) with a key derived by HKDF-SHA256 from settings.SECRET_KEY. Tokens made under a key listed in
SECRET_KEY_FALLBACKS still decrypt, so SECRET_KEY can be rotated the Django way; rows re-encrypt when their
secret is next rotated.

Signature header, one v1 per signing secret (two during a rotation overlap, the newest first):

    X-Lantern-Signature: t=<unix seconds>,v1=<hex hmac-sha256(secret, "<t>." + body)>[,v1=<hex>]

A receiver recomputes the HMAC over the raw body with its secret, compares in constant time with any v1,
and rejects timestamps too far from its clock (signature_verify does exactly that).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "X-Lantern-Signature"
_HKDF_INFO = b"lantern.webhooks.endpoint-secret.v1"


class SecretUnreadable(Exception):
    """A stored secret does not decrypt with SECRET_KEY or any of SECRET_KEY_FALLBACKS."""


def secret_generate() -> str:
    """A new endpoint secret: 256 random bits, url-safe."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


@lru_cache(maxsize=8)
def _fernet_for(key_material: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        key_material.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(key) for key in keys])


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("a webhook secret does not decrypt with SECRET_KEY or its fallbacks") from None


def signature_compute(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secrets_: Sequence[str], body: bytes, *, timestamp: int | None = None) -> str:
    """The X-Lantern-Signature value for `body`, one v1 per secret in the order given."""
    t = int(time.time()) if timestamp is None else timestamp
    return ",".join([f"t={t}", *(f"v1={signature_compute(secret, t, body)}" for secret in secrets_)])


def signature_verify(header: str, body: bytes, secret: str, *, tolerance_s: int = 300,
                     now: float | None = None) -> bool:
    """True when one v1 of `header` is the HMAC of `body` under `secret` and t is within the tolerance.
    What a receiver does; Lantern's tests use it against what the receiver got."""
    parts = [item.partition("=") for item in header.split(",")]
    timestamps = [value for key, _, value in parts if key.strip() == "t"]
    candidates = [value.strip() for key, _, value in parts if key.strip() == "v1"]
    if len(timestamps) != 1 or not timestamps[0].strip().isdigit() or not candidates:
        return False
    t = int(timestamps[0])
    if abs((time.time() if now is None else now) - t) > tolerance_s:
        return False
    expected = signature_compute(secret, t, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
