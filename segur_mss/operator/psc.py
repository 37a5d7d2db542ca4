"""Mock Pro Santé Connect: an OpenID Connect provider over HTTPS for the test professionals.

Endpoints (Keycloak-like paths, as PSC's realm `esante-wallet`): discovery, JWKS, authorization code with PKCE
(S256), CIBA in poll mode (backchannel authentication + token polling with `authorization_pending` /
`slow_down`), refresh (rotating), revocation (RFC 7009), introspection (RFC 7662), userinfo. Clients
authenticate with client_secret_basic or client_secret_post.

The endpoints are written by hand on aiohttp rather than with authlib's `AuthorizationServer`: authlib's server
side is bound to Flask/Django request objects, has no CIBA grant, and the tokens must come from the operator's
`TokenAuthority` (what the IMAP/SMTP servers verify). authlib is still used where it fits (PKCE S256 check) and
joserfc signs the tokens.

There is no browser: the authorization endpoint approves at once a request naming a test professional with
`login_hint` (RPPS, national identifier `8`+RPPS, or mailbox address); without it, it shows a French page to
pick one. CIBA requests wait for the campaign (`approve_ciba` / `deny_ciba`) unless `auto_approve_ciba` is set.
Time comes from the operator's controllable clock (codes, CIBA requests, tokens).
"""

from __future__ import annotations

import base64
import hmac
import html
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import unquote_plus, urlencode, urlsplit

from aiohttp import web
from authlib.oauth2.rfc7636.challenge import compare_s256_code_challenge

from segur_mss.operator.clock import Clock
from segur_mss.operator.identities import Population, Professional
from segur_mss.operator.tokens import TokenAuthority, TokenPair, TokenRejected
from segur_mss.redaction import REDACTOR, Redactor

REALM_PATH = "/auth/realms/esante-wallet"
OIDC = "/protocol/openid-connect"
CIBA_GRANT = "urn:openid:params:grant-type:ciba"
DEFAULT_CLIENT_ID = "segur-mss-lps"
DEFAULT_SCOPE = "openid scope_all"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    """An OAuth/OIDC error response (RFC 6749 §5.2 shape, French description)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> web.Response:
        headers = dict(NO_STORE)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="psc"'
        return web.json_response(
            {"error": self.error, "error_description": self.description}, status=self.status, headers=headers
        )


@dataclass(frozen=True)
class PscClient:
    """A registered OIDC client (a candidate LPS)."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...] = ("http://127.0.0.1/callback",)
    #: RFC 8252 §7.3: a native app's loopback redirect URI may use any port (and any path here)
    allow_loopback_redirects: bool = True
    name: str = "LPS de test"

    def accepts_redirect(self, uri: str) -> bool:
        if uri in self.redirect_uris:
            return True
        parts = urlsplit(uri)
        return self.allow_loopback_redirects and parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


@dataclass
class PscSettings:
    auto_approve_ciba: bool = False
    ciba_approval_delay: float = 0.0  # seconds of the operator clock before an auto-approval
    ciba_interval: int = 2  # minimum seconds between two polls
    ciba_lifetime: int = 120
    code_lifetime: int = 60
    require_pkce: bool = True


@dataclass
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    rpps: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    expires_at: float
    used: bool = False


@dataclass
class CibaRequest:
    """A backchannel authentication request (CIBA, poll mode)."""

    auth_req_id: str
    client_id: str
    rpps: str
    scope: str
    binding_message: str
    created_at: float
    expires_at: float
    interval: int
    status: str = "pending"  # pending | approved | denied | consumed
    approve_at: float | None = None
    last_poll: float | None = None
    polls: list[tuple[float, str]] = field(default_factory=list)  # (time, answer)

    def summary(self) -> dict[str, Any]:
        """For evidence: no request id (a secret), the polling behaviour."""
        return {
            "client_id": self.client_id,
            "rpps": self.rpps,
            "statut": self.status,
            "intervalle": self.interval,
            "interrogations": [{"t": round(t - self.created_at, 3), "reponse": a} for t, a in self.polls],
        }


class PscProvider:
    """The mock PSC: state, campaign controls and aiohttp routes."""

    def __init__(
        self,
        authority: TokenAuthority,
        population: Population,
        clock: Clock,
        *,
        settings: PscSettings | None = None,
        redactor: Redactor = REDACTOR,
        test_client_secret: str | None = None,
    ) -> None:
        self.authority = authority
        self.population = population
        self.clock = clock
        self.settings = settings or PscSettings()
        self.redactor = redactor
        self.base_url = ""
        self._clients: dict[str, PscClient] = {}
        self._codes: dict[str, AuthorizationCode] = {}
        self._ciba: dict[str, CibaRequest] = {}
        self._refused_logins: set[str] = set()
        self._lock = threading.RLock()
        self.events: list[dict[str, Any]] = []  # what happened, without secrets (evidence)
        self.test_client = self.register_client(DEFAULT_CLIENT_ID, test_client_secret)

    # -- addresses ----------------------------------------------------------------------------------------------
    def set_base_url(self, base_url: str) -> None:
        """Fix the issuer once the HTTPS port is known; the token authority signs with the same issuer."""
        self.base_url = base_url.rstrip("/")
        self.authority.issuer = self.issuer

    @property
    def issuer(self) -> str:
        return self.base_url + REALM_PATH

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def endpoint(self, name: str) -> str:
        paths = {
            "authorization": "/auth",
            "token": "/token",
            "userinfo": "/userinfo",
            "jwks": "/certs",
            "revocation": "/revoke",
            "introspection": "/token/introspect",
            "backchannel_authentication": "/ext/ciba/auth",
        }
        return self.issuer + OIDC + paths[name]

    def owns(self, path: str) -> bool:
        return path.startswith(REALM_PATH) or path == "/.well-known/openid-configuration"

    def metadata(self) -> dict[str, Any]:
        """OpenID Provider metadata (discovery document)."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.endpoint("authorization"),
            "token_endpoint": self.endpoint("token"),
            "userinfo_endpoint": self.endpoint("userinfo"),
            "jwks_uri": self.endpoint("jwks"),
            "revocation_endpoint": self.endpoint("revocation"),
            "introspection_endpoint": self.endpoint("introspection"),
            "backchannel_authentication_endpoint": self.endpoint("backchannel_authentication"),
            "backchannel_token_delivery_modes_supported": ["poll"],
            "backchannel_user_code_parameter_supported": False,
            "scopes_supported": ["openid", "scope_all"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", CIBA_GRANT],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nonce",
                "SubjectNameID",
                "preferred_username",
                "given_name",
                "family_name",
                "SubjectRefPro",
            ],
            "authorization_response_iss_parameter_supported": True,
            "ui_locales_supported": ["fr"],
        }

    # -- clients and professionals -------------------------------------------------------------------------
    def register_client(
        self, client_id: str, client_secret: str | None = None, redirect_uris: tuple[str, ...] = ()
    ) -> PscClient:
        secret = client_secret or secrets.token_urlsafe(24)
        self.redactor.register(secret)
        client = PscClient(client_id, secret, redirect_uris or ("http://127.0.0.1/callback",))
        with self._lock:
            self._clients[client_id] = client
        return client

    def professional(self, hint: str | None) -> Professional | None:
        """The test professional named by a login hint: RPPS, login hint, `8`+RPPS, or a PER mailbox address."""
        if not hint:
            return None
        hint = hint.strip()
        for pro in self.population.professionals.values():
            if hint in (pro.rpps, pro.login_hint, "8" + pro.rpps):
                return pro
        box = self.population.mailbox(hint)
        if box is not None and box.owner:
            return self.population.professionals.get(box.owner)
        return None

    # -- campaign controls --------------------------------------------------------------------------------------
    def approve_ciba(self, auth_req_id: str | None = None, *, login_hint: str | None = None) -> int:
        """Approve pending CIBA requests (one by id, or every one of a professional, or all); returns how many."""
        return self._decide_ciba("approved", auth_req_id, login_hint)

    def deny_ciba(self, auth_req_id: str | None = None, *, login_hint: str | None = None) -> int:
        return self._decide_ciba("denied", auth_req_id, login_hint)

    def _decide_ciba(self, status: str, auth_req_id: str | None, login_hint: str | None) -> int:
        pro = self.professional(login_hint) if login_hint else None
        if login_hint and pro is None:
            raise ValueError(f"professionnel inconnu : {login_hint}")
        count = 0
        with self._lock:
            for req in self._ciba.values():
                if req.status != "pending":
                    continue
                if auth_req_id and req.auth_req_id != auth_req_id:
                    continue
                if pro and req.rpps != pro.rpps:
                    continue
                req.status = status
                count += 1
        self._event("ciba_" + ("approuvee" if status == "approved" else "refusee"), nombre=count)
        return count

    def ciba_requests(self, status: str | None = None) -> list[CibaRequest]:
        with self._lock:
            return [r for r in self._ciba.values() if status is None or r.status == status]

    def refuse_login(self, login_hint: str, refused: bool = True) -> None:
        """Make the authorization endpoint deny (access_denied) a professional's logins."""
        pro = self.professional(login_hint)
        if pro is None:
            raise ValueError(f"professionnel inconnu : {login_hint}")
        with self._lock:
            (self._refused_logins.add if refused else self._refused_logins.discard)(pro.rpps)

    def expire_refresh_tokens(self, rpps: str | None = None) -> int:
        """Make the refresh tokens of a professional (or everyone's) expired now."""
        count = self.authority.expire_refresh_tokens(rpps)
        self._event("rafraichissement_expire", rpps=rpps, nombre=count)
        return count

    def revoke_refresh_tokens(self, rpps: str | None = None) -> int:
        count = self.authority.revoke_refresh_tokens(rpps)
        self._event("rafraichissement_revoque", rpps=rpps, nombre=count)
        return count

    def set_access_token_lifetime(self, seconds: int) -> None:
        if seconds <= 0:
            raise ValueError("la durée de vie d'un jeton d'accès doit être positive")
        self.authority.access_lifetime = int(seconds)

    def _event(self, kind: str, **data: Any) -> None:
        with self._lock:
            self.events.append({"t": self.clock.now().isoformat(timespec="milliseconds"), "type": kind, **data})

    # -- routes -----------------------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        base = REALM_PATH
        app.router.add_get(base + "/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/.well-known/openid-configuration", self._discovery)
        app.router.add_get(base + OIDC + "/certs", self._jwks)
        app.router.add_get(base + OIDC + "/auth", self._authorize)
        app.router.add_post(base + OIDC + "/token", self._guard(self._token))
        app.router.add_post(base + OIDC + "/ext/ciba/auth", self._guard(self._backchannel))
        app.router.add_get(base + OIDC + "/userinfo", self._guard(self._userinfo))
        app.router.add_post(base + OIDC + "/userinfo", self._guard(self._userinfo))
        app.router.add_post(base + OIDC + "/revoke", self._guard(self._revoke))
        app.router.add_post(base + OIDC + "/token/introspect", self._guard(self._introspect))

    @staticmethod
    def _guard(handler: Any) -> Any:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except OAuthError as exc:
                return exc.response()

        return guarded

    async def _discovery(self, _request: web.Request) -> web.Response:
        return web.json_response(self.metadata())

    async def _jwks(self, _request: web.Request) -> web.Response:
        return web.json_response(self.authority.public_jwks())

    # -- client authentication ------------------------------------------------------------------------------
    async def _client(self, request: web.Request) -> tuple[PscClient, dict[str, str]]:
        form = {k: str(v) for k, v in (await request.post()).items()}
        client_id = secret = None
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
                raw_id, _, raw_secret = decoded.partition(":")
                client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
            except (ValueError, UnicodeDecodeError) as exc:
                raise OAuthError("invalid_client", "en-tête Basic illisible", 401) from exc
        elif "client_id" in form:
            client_id, secret = form.get("client_id"), form.get("client_secret")
        with self._lock:
            client = self._clients.get(client_id or "")
        if client is None or secret is None or not hmac.compare_digest(secret, client.client_secret):
            self._event("client_refuse", client_id=client_id)
            raise OAuthError("invalid_client", "authentification du client refusée", 401)
        return client, form

    # -- authorization endpoint ---------------------------------------------------------------------------------
    async def _authorize(self, request: web.Request) -> web.Response:
        q = request.query
        with self._lock:
            client = self._clients.get(q.get("client_id", ""))
        redirect_uri = q.get("redirect_uri", "")
        if client is None:
            return self._page("Client inconnu", "L'identifiant client de la demande n'est pas enregistré.", 400)
        if not redirect_uri or not client.accepts_redirect(redirect_uri):
            return self._page("Adresse de retour refusée", "redirect_uri absente ou non enregistrée.", 400)
        state = q.get("state")

        def back(**params: str | None) -> NoReturn:
            params = {k: v for k, v in params.items() if v is not None}
            if state is not None:
                params["state"] = state
            params["iss"] = self.issuer
            sep = "&" if urlsplit(redirect_uri).query else "?"
            raise web.HTTPFound(redirect_uri + sep + urlencode(params))

        if q.get("response_type") != "code":
            back(error="unsupported_response_type", error_description="seul response_type=code est accepté")
        scope = q.get("scope", "")
        if "openid" not in scope.split():
            back(error="invalid_scope", error_description="le scope openid est obligatoire")
        challenge = q.get("code_challenge")
        method = q.get("code_challenge_method", "plain" if challenge else None)
        if challenge is None and self.settings.require_pkce:
            back(error="invalid_request", error_description="PKCE obligatoire (code_challenge, méthode S256)")
        if challenge is not None and method != "S256":
            back(error="invalid_request", error_description="seule la méthode PKCE S256 est acceptée")
        hint = q.get("login_hint")
        if not hint:
            return self._chooser(request)
        pro = self.professional(hint)
        if pro is None:
            back(error="access_denied", error_description="professionnel inconnu")
        assert pro is not None
        with self._lock:
            refused = pro.rpps in self._refused_logins
        if refused:
            self._event("connexion_refusee", rpps=pro.rpps, client_id=client.client_id)
            back(error="access_denied", error_description="authentification refusée par le professionnel")
        code = secrets.token_urlsafe(32)
        self.redactor.register(code)
        with self._lock:
            self._codes[code] = AuthorizationCode(
                client.client_id,
                redirect_uri,
                pro.rpps,
                scope,
                q.get("nonce"),
                challenge,
                self.clock.time() + self.settings.code_lifetime,
            )
        self._event("code_emis", rpps=pro.rpps, client_id=client.client_id, pkce=challenge is not None)
        back(code=code)

    def _chooser(self, request: web.Request) -> web.Response:
        items = []
        for pro in self.population.professionals.values():
            query = dict(request.query) | {"login_hint": pro.rpps}
            href = html.escape(request.path + "?" + urlencode(query))
            items.append(
                f'<li><a href="{href}">{html.escape(pro.display_name)}</a> — {html.escape(pro.profession)}, '
                f"{html.escape(pro.specialty)} ({html.escape(pro.rpps)})</li>"
            )
        body = "<p>Choisissez le professionnel de test qui se connecte :</p><ul>" + "".join(items) + "</ul>"
        return self._page("Pro Santé Connect (simulé) — connexion", body, 200, raw=True)

    @staticmethod
    def _page(title: str, text: str, status: int, raw: bool = False) -> web.Response:
        content = text if raw else f"<p>{html.escape(text)}</p>"
        page = (
            f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
            f"<body><h1>{html.escape(title)}</h1>{content}</body></html>"
        )
        return web.Response(text=page, content_type="text/html", status=status)

    # -- token endpoint -------------------------------------------------------------------------------------
    async def _token(self, request: web.Request) -> web.Response:
        client, form = await self._client(request)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            pair = self._grant_code(client, form)
        elif grant == "refresh_token":
            try:
                pair = self.authority.refresh(form.get("refresh_token", ""), client.client_id)
            except TokenRejected as exc:
                self._event("rafraichissement_refuse", client_id=client.client_id, raison=exc.message)
                raise OAuthError("invalid_grant", exc.message) from exc
            self._event("rafraichissement", client_id=client.client_id)
        elif grant == CIBA_GRANT:
            pair = self._grant_ciba(client, form)
        else:
            raise OAuthError("unsupported_grant_type", f"type d'autorisation non pris en charge : {grant}")
        return web.json_response(self._token_body(pair), headers=NO_STORE)

    def _token_body(self, pair: TokenPair) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": pair.access_token,
            "token_type": "Bearer",
            "expires_in": pair.expires_in,
            "refresh_token": pair.refresh_token,
            "refresh_expires_in": self.authority.refresh_lifetime,
            "scope": pair.scope,
        }
        if pair.id_token:
            body["id_token"] = pair.id_token
        return body

    def _grant_code(self, client: PscClient, form: dict[str, str]) -> TokenPair:
        code = form.get("code", "")
        with self._lock:
            entry = self._codes.get(code)
            if entry is None or entry.client_id != client.client_id:
                raise OAuthError("invalid_grant", "code d'autorisation inconnu")
            if entry.used:
                raise OAuthError("invalid_grant", "code d'autorisation déjà utilisé")
            entry.used = True
        if self.clock.time() >= entry.expires_at:
            raise OAuthError("invalid_grant", "code d'autorisation expiré")
        if form.get("redirect_uri", "") != entry.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri différente de celle de la demande d'autorisation")
        if entry.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            if not _VERIFIER.match(verifier):
                self._event("pkce_refuse", client_id=client.client_id, raison="code_verifier absent ou mal formé")
                raise OAuthError("invalid_grant", "code_verifier absent ou mal formé (RFC 7636)")
            if not compare_s256_code_challenge(verifier, entry.code_challenge):
                self._event("pkce_refuse", client_id=client.client_id, raison="code_verifier incorrect")
                raise OAuthError("invalid_grant", "code_verifier ne correspond pas au code_challenge")
        self._event("jetons_emis", flux="authorization_code", rpps=entry.rpps, client_id=client.client_id)
        return self.authority.issue(entry.rpps, client.client_id, entry.scope, nonce=entry.nonce)

    # -- CIBA -----------------------------------------------------------------------------------------------
    async def _backchannel(self, request: web.Request) -> web.Response:
        client, form = await self._client(request)
        scope = form.get("scope", "")
        if "openid" not in scope.split():
            raise OAuthError("invalid_scope", "le scope openid est obligatoire")
        if form.get("id_token_hint") or form.get("login_hint_token"):
            raise OAuthError("invalid_request", "seul login_hint est pris en charge")
        pro = self.professional(form.get("login_hint"))
        if pro is None:
            raise OAuthError("unknown_user_id", "login_hint absent ou professionnel inconnu")
        lifetime = self.settings.ciba_lifetime
        if form.get("requested_expiry", "").isdigit():
            lifetime = max(1, min(lifetime, int(form["requested_expiry"])))
        now = self.clock.time()
        auth_req_id = secrets.token_urlsafe(32)
        self.redactor.register(auth_req_id)
        req = CibaRequest(
            auth_req_id,
            client.client_id,
            pro.rpps,
            scope,
            form.get("binding_message", ""),
            now,
            now + lifetime,
            self.settings.ciba_interval,
        )
        if self.settings.auto_approve_ciba:
            req.approve_at = now + self.settings.ciba_approval_delay
        with self._lock:
            self._ciba[auth_req_id] = req
        self._event("ciba_demande", rpps=pro.rpps, client_id=client.client_id, auto=req.approve_at is not None)
        return web.json_response(
            {"auth_req_id": auth_req_id, "expires_in": lifetime, "interval": req.interval}, headers=NO_STORE
        )

    def _grant_ciba(self, client: PscClient, form: dict[str, str]) -> TokenPair:
        now = self.clock.time()
        with self._lock:
            req = self._ciba.get(form.get("auth_req_id", ""))
            if req is None or req.client_id != client.client_id:
                raise OAuthError("invalid_grant", "auth_req_id inconnu")
            if req.status == "consumed":
                raise OAuthError("invalid_grant", "auth_req_id déjà utilisé")
            if req.status == "pending" and req.approve_at is not None and now >= req.approve_at:
                req.status = "approved"
            answer = self._poll_answer(req, now)
            req.polls.append((now, answer))
            req.last_poll = now
            if answer == "tokens":
                req.status = "consumed"
        if answer != "tokens":
            descriptions = {
                "expired_token": "demande CIBA expirée",
                "access_denied": "le professionnel a refusé l'authentification",
                "slow_down": f"interrogation trop fréquente : attendre {req.interval} s entre deux appels",
                "authorization_pending": "authentification en attente de validation par le professionnel",
            }
            raise OAuthError(answer, descriptions[answer])
        self._event("jetons_emis", flux="ciba", rpps=req.rpps, client_id=client.client_id)
        return self.authority.issue(req.rpps, client.client_id, req.scope)

    @staticmethod
    def _poll_answer(req: CibaRequest, now: float) -> str:
        if now >= req.expires_at:
            return "expired_token"
        if req.status == "denied":
            return "access_denied"
        if req.status == "approved":
            return "tokens"
        if req.last_poll is not None and now - req.last_poll < req.interval:
            req.interval += 5  # CIBA §11 / RFC 8628 §3.5: the client must poll 5 s slower from now on
            return "slow_down"
        return "authorization_pending"

    # -- userinfo, revocation, introspection ----------------------------------------------------------------
    async def _userinfo(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not token and request.method == "POST":
            token = str((await request.post()).get("access_token", ""))
        try:
            grant = self.authority.verify(token)
        except TokenRejected as exc:
            return web.json_response(
                {"error": "invalid_token", "error_description": exc.message},
                status=401,
                headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{exc.code}"'},
            )
        pro = self.population.professionals.get(grant.rpps)
        claims: dict[str, Any] = {"sub": grant.rpps, "SubjectNameID": grant.rpps, "preferred_username": grant.rpps}
        if pro:
            claims |= {
                "given_name": pro.given,
                "family_name": pro.family,
                "SubjectRefPro": {
                    "exercices": [
                        {
                            "codeProfession": pro.profession_code,
                            "libelleProfession": pro.profession,
                            "libelleSavoirFaire": pro.specialty,
                        }
                    ]
                },
                # harness extension: the MSSanté mailboxes this professional may open with the token
                "mssante_bal": sorted(
                    b.address for b in self.population.mailboxes.values() if b.granted_to(grant.rpps)
                ),
            }
        return web.json_response(claims, headers=NO_STORE)

    async def _revoke(self, request: web.Request) -> web.Response:
        client, form = await self._client(request)
        token = form.get("token", "")
        if not token:
            raise OAuthError("invalid_request", "paramètre token absent")
        state = self.authority.refresh_state(token)
        if state is not None and state.client_id != client.client_id:
            raise OAuthError("unauthorized_client", "ce jeton n'a pas été émis pour ce client")
        revoked = self.authority.revoke(token)
        self._event("revocation", client_id=client.client_id, type="refresh" if state else "access", effet=revoked)
        return web.Response(status=200, headers=NO_STORE)

    async def _introspect(self, request: web.Request) -> web.Response:
        _client, form = await self._client(request)
        token = form.get("token", "")
        state = self.authority.refresh_state(token)
        if state is not None:
            active = not state.revoked and self.clock.time() < state.expires_at
            body: dict[str, Any] = {"active": active}
            if active:
                body |= {
                    "token_type": "refresh_token",
                    "sub": state.rpps,
                    "client_id": state.client_id,
                    "scope": state.scope,
                    "exp": int(state.expires_at),
                    "iss": self.issuer,
                }
            return web.json_response(body, headers=NO_STORE)
        try:
            grant = self.authority.verify(token)
        except TokenRejected:
            return web.json_response({"active": False}, headers=NO_STORE)
        claims = grant.claims
        return web.json_response(
            {
                "active": True,
                "token_type": "Bearer",
                "sub": grant.rpps,
                "client_id": grant.client_id,
                "scope": claims.get("scope", ""),
                "exp": claims.get("exp"),
                "iat": claims.get("iat"),
                "iss": claims.get("iss"),
                "aud": claims.get("aud"),
                "username": grant.rpps,
            },
            headers=NO_STORE,
        )
