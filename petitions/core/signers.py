"""itsdangerous signers whose derived keys are worked out once per secret, not per signature.

itsdangerous derives a signing key from the secret and the salt on every ``sign``/``unsign``,
and its default digest (a lazy wrapper around SHA-1) makes :mod:`hmac` fall back to its
pure-Python HMAC. On the signing hot path that was three key derivations and three slow HMACs
per request (the session cookie, the CSRF token and the form stamp). :class:`KeptKeySigner` is
the same ``TimestampSigner`` — the same key derivation, digest, separator and checks, so the
same bytes in and out — with the derived keys kept and SHA-1 HMACs done by OpenSSL.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from typing import Any, TypeVar

from itsdangerous import Serializer, TimestampSigner
from itsdangerous.encoding import want_bytes
from itsdangerous.signer import HMACAlgorithm

S = TypeVar("S", bound=Serializer[Any])

_MAX_KEYS = 64  # secrets and salts are few; a test suite that changes them stays bounded
_derived: dict[tuple[Any, ...], bytes] = {}
_lock = threading.Lock()


class _OpenSSLHMAC(HMACAlgorithm):
    """HMAC with a named digest: ``hmac.digest`` in C, the same result as ``HMACAlgorithm``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.digest(key, value, self.name)


_names: dict[Any, str | None] = {}


def _digest_name(digest_method: Any) -> str | None:
    """The hashlib name of a digest function, if OpenSSL's HMAC gives the same answer."""
    if digest_method in _names:
        return _names[digest_method]
    try:
        name = digest_method().name
    except Exception:
        name = None
    if name not in ("sha1", "sha256", "sha512") or hashlib.new(name).name != name:
        name = None
    _names[digest_method] = name
    return name


class KeptKeySigner(TimestampSigner):
    """``TimestampSigner`` with its derived keys kept (per secret, salt and derivation)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if type(self.algorithm) is HMACAlgorithm:
            name = _digest_name(self.algorithm.digest_method)
            if name is not None:
                self.algorithm = _OpenSSLHMAC(name)

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        secret = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        key = (secret, self.salt, self.key_derivation, self.digest_method)
        derived = _derived.get(key)
        if derived is None:
            derived = super().derive_key(secret)
            with _lock:
                if len(_derived) >= _MAX_KEYS:
                    _derived.clear()
                _derived[key] = derived
        return derived


def keep_signers(serializer: S) -> S:
    """``serializer``, its signers made once per salt (itsdangerous makes one per call)
    as ``KeptKeySigner`` instead; nothing else changes. Signers hold no state but their
    settings, so one serves every call."""
    serializer.signer = KeptKeySigner
    made: dict[Any, Any] = {}
    make = serializer.make_signer

    def make_signer(salt: str | bytes | None = None) -> Any:
        signer = made.get(salt)
        if signer is None:
            signer = made[salt] = make(salt)
        return signer

    serializer.make_signer = make_signer  # type: ignore[method-assign]
    return serializer


def kept_signer(secret_key: str | bytes, salt: str) -> KeptKeySigner:
    """One ``KeptKeySigner(secret_key, salt=salt)`` per secret and salt, made once."""
    key = ("signer", want_bytes(secret_key), salt)
    signer = _signers.get(key)
    if signer is None:
        with _lock:
            if len(_signers) >= _MAX_KEYS:
                _signers.clear()
            signer = _signers[key] = KeptKeySigner(secret_key, salt=salt)
    return signer


_signers: dict[tuple[Any, ...], KeptKeySigner] = {}
