"""SASL bearer-token mechanisms of the API LPS: XOAUTH2 (Google's) and OAUTHBEARER (RFC 7628).

Shared by the SMTP and IMAP servers: parsing the client's initial response and verifying the token against the
mock Pro Santé Connect and the mailbox the client asks for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from segur_mss.operator.identities import Mailbox, Population
from segur_mss.operator.tokens import AccessGrant, TokenAuthority, TokenRejected

MECHANISMS = ("XOAUTH2", "OAUTHBEARER")


class SaslError(Exception):
    """The client's SASL message is malformed."""


@dataclass(frozen=True)
class BearerCredentials:
    mechanism: str
    user: str
    token: str


@dataclass(frozen=True)
class SaslOutcome:
    success: bool
    mechanism: str
    user: str | None = None
    mailbox: Mailbox | None = None
    grant: AccessGrant | None = None
    reason: str | None = None  # stable code
    message: str | None = None  # French explanation

    def error_challenge(self) -> bytes:
        """The JSON error both mechanisms send as a final challenge (RFC 7628 §3.2.2)."""
        return json.dumps(
            {"status": "invalid_token", "schemes": "bearer", "scope": "openid", "reason": self.reason}
        ).encode()


def parse_xoauth2(blob: bytes) -> BearerCredentials:
    """`user=<address>^Aauth=Bearer <token>^A^A`."""
    fields = {}
    for part in blob.decode("utf-8", "strict").split("\x01"):
        if "=" in part:
            key, value = part.split("=", 1)
            fields[key.strip().lower()] = value
    return _credentials("XOAUTH2", fields.get("user"), fields.get("auth"))


def parse_oauthbearer(blob: bytes) -> BearerCredentials:
    """`n,a=<address>,^Ahost=...^Aport=...^Aauth=Bearer <token>^A^A` (RFC 7628 §3.1)."""
    text = blob.decode("utf-8", "strict")
    gs2, _, rest = text.partition("\x01")
    user = None
    for item in gs2.split(","):
        if item.startswith("a="):
            user = item[2:].replace("=2C", ",").replace("=3D", "=")
    fields = {}
    for part in rest.split("\x01"):
        if "=" in part:
            key, value = part.split("=", 1)
            fields[key.strip().lower()] = value
    return _credentials("OAUTHBEARER", user, fields.get("auth"))


def _credentials(mechanism: str, user: str | None, auth: str | None) -> BearerCredentials:
    if not user:
        raise SaslError(f"{mechanism} : identifiant de BAL absent")
    if not auth or not auth.lower().startswith("bearer "):
        raise SaslError(f"{mechanism} : champ auth=Bearer absent")
    return BearerCredentials(mechanism, user.strip(), auth[7:].strip())


PARSERS = {"XOAUTH2": parse_xoauth2, "OAUTHBEARER": parse_oauthbearer}


class BearerVerifier:
    """Verifies bearer SASL credentials for a mailbox of the population."""

    def __init__(self, authority: TokenAuthority, population: Population) -> None:
        self.authority = authority
        self.population = population

    def verify(self, mechanism: str, blob: bytes) -> SaslOutcome:
        try:
            creds = PARSERS[mechanism](blob)
        except (SaslError, UnicodeDecodeError, KeyError) as exc:
            return SaslOutcome(False, mechanism, reason="malformed", message=str(exc))
        mailbox = self.population.mailbox(creds.user)
        if mailbox is None:
            return SaslOutcome(False, mechanism, creds.user, reason="unknown_mailbox", message="BAL inconnue")
        if mailbox.type not in ("PER", "ORG"):
            return SaslOutcome(
                False, mechanism, creds.user, mailbox, reason="wrong_method",
                message="une BAL applicative s'ouvre par certificat, pas par jeton PSC",
            )
        try:
            grant = self.authority.verify(creds.token, mailbox=mailbox)
        except TokenRejected as exc:
            return SaslOutcome(False, mechanism, creds.user, mailbox, reason=exc.code, message=exc.message)
        return SaslOutcome(True, mechanism, creds.user, mailbox, grant)
