"""Secrets at rest (Fernet under a key derived from SECRET_KEY, fallbacks honoured) and signatures."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from webhooks.crypto import (SecretUnreadable, secret_decrypt, secret_encrypt, secret_generate,
                             signature_compute, signature_header, signature_verify)


def test_secrets_round_trip_and_never_encrypt_to_the_same_text():
    secret = secret_generate()
    first, second = secret_encrypt(secret), secret_encrypt(secret)
    assert first != second and secret not in first
    assert secret_decrypt(first) == secret_decrypt(second) == secret


def test_a_rotated_secret_key_still_reads_old_rows_through_the_fallbacks(settings):
    secret = secret_generate()
    token = secret_encrypt(secret)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-brand-new-secret-key-for-this-test"
    assert secret_decrypt(token) == secret
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(SecretUnreadable):
        secret_decrypt(token)


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    body = b'{"id":"x"}'
    expected = hmac.new(b"whsec_k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature_compute("whsec_k", 1700000000, body) == expected
    assert signature_header(["whsec_k", "whsec_old"], body, timestamp=1700000000) == (
        f"t=1700000000,v1={expected},v1={signature_compute('whsec_old', 1700000000, body)}")


def test_verification_checks_the_secret_the_body_and_the_clock():
    header = signature_header(["whsec_k"], b"body", timestamp=1700000000)
    assert signature_verify(header, b"body", "whsec_k", now=1700000100)
    assert not signature_verify(header, b"body", "whsec_other", now=1700000100)
    assert not signature_verify(header, b"body!", "whsec_k", now=1700000100)
    assert not signature_verify(header, b"body", "whsec_k", now=1700000000 + 301)
    for broken in ("", "v1=abc", "t=x,v1=abc", "t=1,t=2,v1=abc", "t=1700000000"):
        assert not signature_verify(broken, b"body", "whsec_k", now=1700000000)
