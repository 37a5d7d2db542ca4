"""Access and refresh tokens of the mock Pro Santé Connect, and their verification by the API LPS.

Access tokens are JWT signed with an EC key (joserfc); refresh tokens are opaque and kept server-side so they
can be revoked or expired by the campaign. Time comes from a controllable `Clock`.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from segur_mss.operator.clock import Clock
from segur_mss.redaction import REDACTOR, Redactor

API_LPS_AUDIENCE = "mssante-api-lps"


class TokenRejected(Exception):
    """A token the API LPS refuses, with the reason (a stable code) and a French explanation."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class AccessGrant:
    """What a verified access token grants."""

    rpps: str
    client_id: str
    jti: str
    expires_at: float
    claims: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """Claims fit for a transcript (no token material)."""
        return {
            "sub": self.rpps,
            "client_id": self.client_id,
            "jti_sha256": hashlib.sha256(self.jti.encode()).hexdigest()[:16],
            "exp": int(self.expires_at),
        }


@dataclass
class RefreshState:
    rpps: str
    client_id: str
    scope: str
    expires_at: float
    revoked: bool = False


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    id_token: str | None = None
    scope: str = "openid scope_all"


@dataclass
class TokenAuthority:
    """Issues and verifies PSC-like tokens."""

    issuer: str
    clock: Clock = field(default_factory=Clock)
    access_lifetime: int = 120  # seconds: PSC access tokens live a few minutes
    refresh_lifetime: int = 1800
    redactor: Redactor = field(default_factory=lambda: REDACTOR)

    def __post_init__(self) -> None:
        self.key = ECKey.generate_key("P-256", parameters={"kid": "psc-test-1", "use": "sig"})
        self._refresh: dict[str, RefreshState] = {}
        self._revoked_jti: set[str] = set()
        self._issued_access: list[str] = []
        self._lock = threading.Lock()
        self._id_token_key: RSAKey | None = None

    @property
    def id_token_key(self) -> RSAKey:
        """RS256 key of the ID tokens (OpenID Discovery: RS256 MUST be supported; the default for clients)."""
        with self._lock:
            if self._id_token_key is None:
                self._id_token_key = RSAKey.generate_key(2048, parameters={"kid": "psc-test-rs256", "use": "sig"})
            return self._id_token_key

    # -- issuance ---------------------------------------------------------------------------------------
    def issue(self, rpps: str, client_id: str, scope: str = "openid scope_all", nonce: str | None = None) -> TokenPair:
        now = self.clock.time()
        access = self._access_token(rpps, client_id, now, scope)
        refresh = secrets.token_urlsafe(32)
        with self._lock:
            self._refresh[refresh] = RefreshState(rpps, client_id, scope, now + self.refresh_lifetime)
        self.redactor.register(refresh)
        claims = {"iss": self.issuer, "sub": rpps, "aud": client_id, "iat": int(now),
                  "exp": int(now + self.access_lifetime), "SubjectNameID": rpps}
        if nonce:
            claims["nonce"] = nonce
        id_token = jwt.encode({"alg": "RS256", "kid": self.id_token_key.kid}, claims, self.id_token_key)
        self.redactor.register(id_token)
        return TokenPair(access, refresh, self.access_lifetime, id_token, scope)

    def refresh(self, refresh_token: str, client_id: str) -> TokenPair:
        """Exchange a refresh token (rotated) for a new pair; raises TokenRejected when invalid."""
        with self._lock:
            state = self._refresh.get(refresh_token)
            if state is None or state.client_id != client_id:
                raise TokenRejected("invalid_grant", "jeton de rafraîchissement inconnu")
            if state.revoked:
                raise TokenRejected("invalid_grant", "jeton de rafraîchissement révoqué")
            if self.clock.time() >= state.expires_at:
                raise TokenRejected("invalid_grant", "jeton de rafraîchissement expiré")
            state.revoked = True  # rotation
        return self.issue(state.rpps, client_id, state.scope)

    def _access_token(self, rpps: str, client_id: str, now: float, scope: str) -> str:
        jti = secrets.token_hex(16)
        claims = {
            "iss": self.issuer,
            "sub": rpps,
            "preferred_username": rpps,
            "SubjectNameID": rpps,
            "aud": [API_LPS_AUDIENCE, client_id],
            "azp": client_id,
            "iat": int(now),
            "exp": int(now + self.access_lifetime),
            "jti": jti,
            "scope": scope,
        }
        token = jwt.encode({"alg": "ES256", "kid": self.key.kid, "typ": "JWT"}, claims, self.key)
        self.redactor.register(token)
        with self._lock:
            self._issued_access.append(token)
        return token

    # -- campaign controls ------------------------------------------------------------------------------
    def revoke_refresh_tokens(self, rpps: str | None = None) -> int:
        with self._lock:
            count = 0
            for state in self._refresh.values():
                if rpps is None or state.rpps == rpps:
                    state.revoked = True
                    count += 1
            return count

    def expire_refresh_tokens(self, rpps: str | None = None) -> int:
        """Make refresh tokens (of one professional, or all) expired at the operator's current time."""
        now = self.clock.time()
        with self._lock:
            count = 0
            for state in self._refresh.values():
                if rpps is None or state.rpps == rpps:
                    state.expires_at = min(state.expires_at, now)
                    count += 1
            return count

    def refresh_state(self, refresh_token: str) -> RefreshState | None:
        """The server-side state of a refresh token (None when unknown)."""
        with self._lock:
            return self._refresh.get(refresh_token)

    def revoke(self, token: str) -> bool:
        """RFC 7009 revocation of a refresh or access token."""
        with self._lock:
            state = self._refresh.get(token)
            if state:
                state.revoked = True
                return True
        try:
            claims = jwt.decode(token, self.key).claims
        except (JoseError, ValueError):
            return False
        with self._lock:
            self._revoked_jti.add(claims.get("jti", ""))
        return True

    @property
    def issued_access_tokens(self) -> list[str]:
        """Every access token issued (the harness scans the candidate's storage for them)."""
        with self._lock:
            return list(self._issued_access)

    def issued_jti_digests(self) -> set[str]:
        """The transcript digests (`jti_sha256`) of every access token issued: tells a presented token came from PSC."""
        digests = set()
        for token in self.issued_access_tokens:
            jti = str(jwt.decode(token, self.key).claims.get("jti", ""))
            digests.add(hashlib.sha256(jti.encode()).hexdigest()[:16])
        return digests

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False), self.id_token_key.as_dict(private=False)]}

    # -- verification -----------------------------------------------------------------------------------
    def verify(self, token: str, *, mailbox: Any | None = None) -> AccessGrant:
        """Verify signature, issuer, audience, expiry and revocation; with `mailbox`, that it is granted."""
        try:
            claims = jwt.decode(token, self.key, algorithms=["ES256"]).claims
        except (JoseError, ValueError) as exc:
            reason = f"jeton illisible ou signature invalide ({type(exc).__name__})"
            raise TokenRejected("invalid_token", reason) from exc
        if claims.get("iss") != self.issuer:
            raise TokenRejected("invalid_issuer", "émetteur du jeton inattendu")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if API_LPS_AUDIENCE not in audiences:
            raise TokenRejected("invalid_audience", "jeton non destiné à l'API LPS")
        if self.clock.time() >= float(claims.get("exp", 0)):
            raise TokenRejected("expired", "jeton d'accès expiré")
        with self._lock:
            if claims.get("jti") in self._revoked_jti:
                raise TokenRejected("revoked", "jeton d'accès révoqué")
        grant = AccessGrant(
            rpps=str(claims.get("sub")),
            client_id=str(claims.get("azp", "")),
            jti=str(claims.get("jti", "")),
            expires_at=float(claims["exp"]),
            claims=dict(claims),
        )
        if mailbox is not None and not mailbox.granted_to(grant.rpps):
            raise TokenRejected("mailbox_not_granted", "la BAL demandée n'appartient pas au professionnel du jeton")
        return grant
