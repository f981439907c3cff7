"""Secrets the server hands out (API tokens, calendar-feed tokens, idempotency keys): stored only
as digests, and what must be stored beside one sealed with it.

A high-entropy secret needs no slow password hash: SHA-256 of it cannot be reversed or guessed,
and a lookup by digest is one indexed query.
"""
import base64
import hashlib
import hmac
from typing import Optional

from flask import current_app


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _fernet(secret: str, purpose: str):
    from cryptography.fernet import Fernet

    key = hmac.new(current_app.config["SECRET_KEY"].encode("utf-8"), f"{purpose}\0{secret}".encode(),
                   hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str, text: str, purpose: str) -> str:
    """`text` encrypted under a key derived from the server's SECRET_KEY and `secret`, which the
    database does not hold (only its digest): a database dump or backup alone cannot read it."""
    return _fernet(secret, purpose).encrypt(text.encode("utf-8")).decode("ascii")


def unseal(secret: str, sealed: str, purpose: str, max_age: Optional[int] = None) -> Optional[str]:
    """The text `seal` sealed, or None if it was tampered with, sealed for another secret or
    purpose, or (with max_age) sealed more than max_age seconds ago."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(secret, purpose).decrypt(sealed.encode("ascii"), ttl=max_age).decode("utf-8")
    except (InvalidToken, ValueError, UnicodeError):
        return None
