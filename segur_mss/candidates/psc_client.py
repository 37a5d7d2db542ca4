"""Pro Santé Connect, client side: the professional's login, token refresh and end of session.

Everything goes through the standard protocols from the issuer URL alone: OpenID Connect discovery, CIBA in poll
mode (the flow for thick clients) or the authorization code flow with PKCE (S256), ID token verification against
the JWKS, refresh (rotating), revocation (RFC 7009) at logout. HTTPS is checked with the candidate's TLS policy
(IGC-Santé test root only).

Tokens live in memory only (SC.MSS/CONF.28): `MemoryTokenStore`. The access token is refreshed before it
expires; when the refresh token is refused (revoked, expired) the session is over: `PscSessionEnded`, and the
candidate ends its mail sessions and asks the user to log in again (SC.MSS/CONF.10).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

CIBA_GRANT = "urn:openid:params:grant-type:ciba"
DEFAULT_SCOPE = "openid scope_all"
USER_RELOGIN_MESSAGE = "reconnexion demandée à l'utilisateur"


class PscError(Exception):
    """A PSC exchange failed (French message; `code` is the OAuth error or a local code)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class PscSessionEnded(PscError):
    """The PSC session is over (refresh refused): the user must log in again."""


@dataclass
class TokenSet:
    """The tokens of one login. `expires_at` is on the local monotonic clock."""

    access_token: str
    refresh_token: str = ""
    expires_in: int = 0
    id_token: str = ""
    expires_at: float = 0.0
    subject: str = ""
    display_name: str = ""

    @classmethod
    def from_response(cls, body: dict[str, Any]) -> TokenSet:
        lifetime = int(body.get("expires_in") or 0)
        return cls(
            access_token=str(body["access_token"]),
            refresh_token=str(body.get("refresh_token") or ""),
            expires_in=lifetime,
            id_token=str(body.get("id_token") or ""),
            expires_at=time.monotonic() + lifetime,
        )

    @property
    def remaining(self) -> float:
        return self.expires_at - time.monotonic()


class TokenStore(Protocol):
    """Where the candidate keeps its tokens while the session lasts."""

    def save(self, tokens: TokenSet | None) -> None: ...

    def load(self) -> TokenSet | None: ...

    def locations(self) -> list[str]: ...


class MemoryTokenStore:
    """In the process's memory only: never written to disk, gone when the product stops (CONF.28)."""

    def __init__(self) -> None:
        self._tokens: TokenSet | None = None

    def save(self, tokens: TokenSet | None) -> None:
        self._tokens = tokens

    def load(self) -> TokenSet | None:
        return self._tokens

    def locations(self) -> list[str]:
        return []


@dataclass(frozen=True)
class PscConfiguration:
    """The product's PSC registration (env.json `psc`)."""

    issuer: str
    client_id: str
    client_secret: str = ""
    scope: str = DEFAULT_SCOPE
    redirect_uri: str = "http://127.0.0.1/callback"
    flow: str = "authorization_code"  # or "ciba"
    ciba_timeout: float = 60.0

    @classmethod
    def from_env(cls, psc: dict[str, Any], flow: str = "") -> PscConfiguration | None:
        if not psc.get("issuer") or not psc.get("client_id"):
            return None
        chosen = flow or psc.get("flow") or ("ciba" if psc.get("ciba_auto_approve") else "authorization_code")
        redirects = psc.get("redirect_uris") or ["http://127.0.0.1/callback"]
        return cls(
            issuer=str(psc["issuer"]).rstrip("/"),
            client_id=str(psc["client_id"]),
            client_secret=str(psc.get("client_secret") or ""),
            scope=str(psc.get("scope") or DEFAULT_SCOPE),
            redirect_uri=str(redirects[0]),
            flow=str(chosen),
        )


@dataclass
class PscExchange:
    """One call to PSC as the traces record it (never a token)."""

    request: str
    response: str
    ok: bool


class PscClient:
    """OpenID Connect client of Pro Santé Connect (discovery, CIBA poll, code + PKCE, refresh, revocation)."""

    def __init__(self, config: PscConfiguration, verify: Any, *, timeout: float = 10.0) -> None:
        self.config = config
        self.http = httpx.Client(verify=verify, timeout=timeout, trust_env=False, follow_redirects=False)
        self._metadata: dict[str, Any] | None = None
        self._jwks: KeySet | None = None
        self.exchanges: list[PscExchange] = []

    def close(self) -> None:
        self.http.close()

    # -- discovery ----------------------------------------------------------------------------------------
    @property
    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            url = self.config.issuer + "/.well-known/openid-configuration"
            response = self._call("GET", url)
            body = self._json(response, "découverte OpenID Connect")
            if body.get("issuer", "").rstrip("/") != self.config.issuer:
                raise PscError("invalid_issuer", "le document de découverte annonce un autre émetteur")
            self._metadata = body
        return self._metadata

    def endpoint(self, name: str) -> str:
        url = self.metadata.get(name)
        if not url:
            raise PscError("unsupported", f"PSC n'annonce pas {name}")
        return str(url)

    # -- flows --------------------------------------------------------------------------------------------
    def login(self, login_hint: str, binding_message: str = "") -> TokenSet:
        """The professional's login by the configured flow."""
        if self.config.flow == "ciba":
            return self.login_ciba(login_hint, binding_message)
        return self.login_authorization_code(login_hint)

    def login_ciba(self, login_hint: str, binding_message: str = "") -> TokenSet:
        """CIBA, poll mode: the professional approves on their e-CPS; the product polls the token endpoint."""
        form = {"scope": self.config.scope, "login_hint": login_hint}
        if binding_message:
            form["binding_message"] = binding_message
        response = self._call("POST", self.endpoint("backchannel_authentication_endpoint"), data=form, auth=True)
        started = self._json(response, "demande d'authentification CIBA")
        auth_req_id = str(started["auth_req_id"])
        interval = float(started.get("interval") or 5)
        deadline = time.monotonic() + min(float(started.get("expires_in") or 120), self.config.ciba_timeout)
        while True:
            response = self._call(
                "POST", self.endpoint("token_endpoint"), data={"grant_type": CIBA_GRANT, "auth_req_id": auth_req_id},
                auth=True,
            )
            if response.status_code == 200:
                return self._tokens(response)
            error = self._error(response)
            if error.code == "slow_down":
                interval += 5
            elif error.code != "authorization_pending":
                raise error
            if time.monotonic() + interval > deadline:
                raise PscError("expired_token", "le professionnel n'a pas validé l'authentification à temps")
            time.sleep(interval)

    def login_authorization_code(self, login_hint: str) -> TokenSet:
        """Authorization code with PKCE (S256). The system browser is played by a direct request naming the
        professional (`login_hint`); the code comes back on the loopback redirect URI."""
        verifier = secrets.token_urlsafe(64)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        params = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_uri,
            "scope": self.config.scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "login_hint": login_hint,
        }
        url = self.endpoint("authorization_endpoint") + "?" + urlencode(params)
        response = self._call("GET", url)
        location = response.headers.get("location", "")
        if response.status_code not in (302, 303) or not location.startswith(self.config.redirect_uri):
            raise PscError("access_denied", f"PSC n'a pas renvoyé vers l'application (HTTP {response.status_code})")
        answer = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        if answer.get("state") != state:
            raise PscError("invalid_state", "paramètre state inattendu au retour de PSC")
        if answer.get("iss") and answer["iss"].rstrip("/") != self.config.issuer:
            raise PscError("invalid_issuer", "réponse d'autorisation d'un autre émetteur (RFC 9207)")
        if "error" in answer:
            raise PscError(answer["error"], answer.get("error_description", "authentification refusée"))
        response = self._call(
            "POST",
            self.endpoint("token_endpoint"),
            data={"grant_type": "authorization_code", "code": answer.get("code", ""),
                  "redirect_uri": self.config.redirect_uri, "code_verifier": verifier},
            auth=True,
        )
        if response.status_code != 200:
            raise self._error(response)
        return self._tokens(response, nonce=nonce)

    def refresh(self, tokens: TokenSet) -> TokenSet:
        """New tokens from the refresh token; `PscSessionEnded` when PSC refuses it."""
        if not tokens.refresh_token:
            raise PscSessionEnded("no_refresh_token", "aucun jeton de rafraîchissement")
        response = self._call(
            "POST", self.endpoint("token_endpoint"),
            data={"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}, auth=True,
        )
        if response.status_code != 200:
            error = self._error(response)
            raise PscSessionEnded(error.code, f"rafraîchissement refusé par PSC : {error.message}")
        fresh = self._tokens(response)
        fresh.subject = fresh.subject or tokens.subject
        fresh.display_name = fresh.display_name or tokens.display_name
        if not fresh.refresh_token:
            fresh.refresh_token = tokens.refresh_token
        return fresh

    def revoke(self, token: str) -> None:
        """RFC 7009, best effort (logout)."""
        url = self.metadata.get("revocation_endpoint")
        if not url or not token:
            return
        try:
            self._call("POST", url, data={"token": token, "token_type_hint": "refresh_token"}, auth=True)
        except (httpx.HTTPError, PscError):
            return

    def userinfo(self, tokens: TokenSet) -> dict[str, Any]:
        url = self.metadata.get("userinfo_endpoint")
        if not url:
            return {}
        response = self._call("GET", url, headers={"Authorization": f"Bearer {tokens.access_token}"})
        return response.json() if response.status_code == 200 else {}

    # -- internals ----------------------------------------------------------------------------------------
    def _tokens(self, response: httpx.Response, *, nonce: str | None = None) -> TokenSet:
        body = self._json(response, "jetons")
        if str(body.get("token_type", "")).lower() != "bearer" or not body.get("access_token"):
            raise PscError("invalid_response", "réponse de jetons sans jeton d'accès Bearer")
        tokens = TokenSet.from_response(body)
        if tokens.id_token:
            claims = self.verify_id_token(tokens.id_token, nonce)
            tokens.subject = str(claims.get("sub", ""))
        return tokens

    def verify_id_token(self, id_token: str, nonce: str | None) -> dict[str, Any]:
        """Signature (JWKS), issuer, audience and nonce of the ID token."""
        if self._jwks is None:
            response = self._call("GET", self.endpoint("jwks_uri"))
            self._jwks = KeySet.import_key_set(self._json(response, "JWKS"))
        try:
            claims = dict(jwt.decode(id_token, self._jwks).claims)
        except (JoseError, ValueError) as exc:
            raise PscError("invalid_id_token", f"jeton d'identité invalide ({type(exc).__name__})") from exc
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if str(claims.get("iss", "")).rstrip("/") != self.config.issuer or self.config.client_id not in audiences:
            raise PscError("invalid_id_token", "jeton d'identité d'un autre émetteur ou pour un autre client")
        if nonce is not None and claims.get("nonce") != nonce:
            raise PscError("invalid_id_token", "nonce du jeton d'identité inattendu")
        return claims

    def _call(
        self, method: str, url: str, *, data: dict[str, str] | None = None, auth: bool = False,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        basic = (self.config.client_id, self.config.client_secret) if auth else None
        path = urlsplit(url).path
        try:
            response = self.http.request(method, url, data=data, auth=basic, headers=headers)
        except httpx.HTTPError as exc:
            self.exchanges.append(PscExchange(f"{method} {path}", f"échec : {type(exc).__name__}", False))
            raise PscError("unreachable", f"Pro Santé Connect injoignable ({type(exc).__name__})") from exc
        summary = f"{method} {path}" + (f" grant_type={data['grant_type']}" if data and "grant_type" in data else "")
        answer = f"HTTP {response.status_code}"
        if response.status_code >= 400:
            answer += f" {self._error(response).code}"
        self.exchanges.append(PscExchange(summary, answer, response.status_code < 400))
        return response

    @staticmethod
    def _json(response: httpx.Response, what: str) -> dict[str, Any]:
        if response.status_code != 200:
            raise PscClient._error(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise PscError("invalid_response", f"réponse illisible de PSC ({what})") from exc
        if not isinstance(body, dict):
            raise PscError("invalid_response", f"réponse inattendue de PSC ({what})")
        return body

    @staticmethod
    def _error(response: httpx.Response) -> PscError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        code = str(body.get("error") or f"http_{response.status_code}")
        return PscError(code, str(body.get("error_description") or f"erreur HTTP {response.status_code}"))


@dataclass
class PscSession:
    """The professional's PSC session as the product holds it: tokens in a store, refreshed before expiry.

    A refused refresh raises `PscSessionEnded`; what follows (ending the mail sessions, asking the user to log in
    again, then `forget`) is the product's decision, taken by the candidate.
    """

    client: PscClient | None
    store: TokenStore = field(default_factory=MemoryTokenStore)
    refresh_margin: float = 30.0
    on_event: Callable[[str, PscExchange | None, str], None] | None = None
    ended: str = ""  # why the session ended ("" while it lives)

    @property
    def tokens(self) -> TokenSet | None:
        return self.store.load()

    @property
    def active(self) -> bool:
        return not self.ended and self.store.load() is not None

    def start(self, tokens: TokenSet) -> None:
        self.ended = ""
        self.store.save(tokens)

    def access_token(self) -> str:
        """A usable access token, refreshed first when it is about to expire."""
        tokens = self._live()
        margin = min(self.refresh_margin, tokens.expires_in * 0.25) if tokens.expires_in else 0
        if tokens.expires_in and tokens.remaining <= margin:
            tokens = self.refresh()
        return tokens.access_token

    def refresh(self) -> TokenSet:
        """New tokens now (e.g. a fresh access token to reopen a session); `PscSessionEnded` when refused."""
        tokens = self._live()
        if self.client is None:
            raise PscSessionEnded("no_psc", "aucun Pro Santé Connect configuré pour rafraîchir le jeton")
        try:
            fresh = self.client.refresh(tokens)
        except PscSessionEnded as exc:
            self._notify("rafraichissement_jeton", exc.message)
            raise
        except PscError as exc:  # PSC unreachable: the current token may still be valid for a while
            self._notify("rafraichissement_jeton", exc.message)
            if tokens.remaining > 0:
                return tokens
            raise PscSessionEnded(exc.code, exc.message) from exc
        self.store.save(fresh)
        self._notify("rafraichissement_jeton", "")
        return fresh

    def stale_access_token(self) -> str:
        """The access token held, whatever its state (only a faulty candidate uses it after a refused refresh)."""
        tokens = self.store.load()
        return tokens.access_token if tokens else ""

    def forget(self, reason: str) -> None:
        """End the session: tokens dropped, every later use raises `PscSessionEnded` without contacting anyone."""
        self.ended = reason or "session terminée"
        self.store.save(None)

    def logout(self) -> None:
        tokens = self.store.load()
        if tokens is not None and self.client is not None:
            self.client.revoke(tokens.refresh_token)
        self.forget("déconnexion par l'utilisateur")

    def _live(self) -> TokenSet:
        tokens = self.store.load()
        if self.ended or tokens is None:
            raise PscSessionEnded("session_ended", self.ended or "aucune session Pro Santé Connect ouverte")
        return tokens

    def _notify(self, kind: str, problem: str) -> None:
        if self.on_event is not None:
            last = self.client.exchanges[-1] if self.client and self.client.exchanges else None
            self.on_event(kind, last, problem)
