"""Redaction of secrets (bearer tokens, passwords, private keys) before anything is written as evidence."""

from __future__ import annotations

import re
import threading

REDACTED = "[EXPURGÉ]"

_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
_PEM_KEY = re.compile(
    r"-----BEGIN (?:[A-Z ]+ )?PRIVATE KEY-----.*?-----END (?:[A-Z ]+ )?PRIVATE KEY-----", re.S
)
_SECRET_FIELD = re.compile(
    r'(?i)("?(?:access_token|refresh_token|id_token|client_secret|password|auth_req_id|code_verifier)"?'
    r"\s*[:=]\s*\"?)([^\"&\s,}]+)"
)


class Redactor:
    """Removes known secrets and secret-looking values from text.

    Known secrets (tokens issued during the run, client secrets) are registered as they are created, so they
    are removed even where they do not look like a secret.
    """

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def register(self, secret: str | None) -> None:
        if secret and len(secret) >= 6:
            with self._lock:
                self._secrets.add(secret)

    @property
    def secrets(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._secrets)

    def text(self, value: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            value = value.replace(secret, REDACTED)
        value = _PEM_KEY.sub(REDACTED, value)
        value = _JWT.sub(REDACTED, value)
        value = _BEARER.sub(lambda m: m.group(1) + REDACTED, value)
        value = _SECRET_FIELD.sub(lambda m: m.group(1) + REDACTED, value)
        return value

    def bytes(self, value: bytes) -> bytes:
        return self.text(value.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")


#: Process-wide redactor: the operator registers every secret it issues here.
REDACTOR = Redactor()
