"""Secrets at rest: Fernet with key rotation (MultiFernet, newest key first); the audit chain's
HMAC keys, derived from the same data keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretBox:
    def __init__(self, keys: tuple[str, ...] | list[str]) -> None:
        if not keys:
            raise ValueError("at least one data key is required")
        self._fernet = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])

    def seal(self, value) -> str:
        return self._fernet.encrypt(json.dumps(value).encode()).decode()

    def open(self, token: str | None):
        if token is None:
            return None
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise ValueError("secret cannot be decrypted with the configured data keys") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt under the newest key so an old key can be retired."""
        return self._fernet.rotate(token.encode()).decode()


def new_key() -> str:
    return Fernet.generate_key().decode()


class AuditKeys:
    """HMAC keys for the audit chain, one derived (HKDF-SHA256) from each data key.

    The first data key's is the current one (new rows and checkpoints); the others stay usable
    for verifying, so adding a new data key in front never breaks old rows. Each key is named
    by a short fingerprint (``key_id``) stored next to what it signed."""

    INFO = b"coachwire audit chain v2"

    def __init__(self, data_keys: tuple[str, ...] | list[str]) -> None:
        if not data_keys:
            raise ValueError("at least one data key is required")
        self._keys: dict[str, bytes] = {}
        for position, key in enumerate(data_keys):
            derived = self.derive(key)
            key_id = hmac.new(derived, b"key-id", hashlib.sha256).hexdigest()[:16]
            self._keys.setdefault(key_id, derived)
            if position == 0:
                self.current_id = key_id

    @classmethod
    def derive(cls, data_key: str) -> bytes:
        raw = base64.urlsafe_b64decode(data_key.encode() if isinstance(data_key, str) else data_key)
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=cls.INFO).derive(raw)

    def get(self, key_id: str | None) -> bytes | None:
        return self._keys.get(key_id or "")

    def mac(self, message: bytes, key_id: str | None = None) -> str:
        key = self._keys[key_id or self.current_id]
        return hmac.new(key, message, hashlib.sha256).hexdigest()
