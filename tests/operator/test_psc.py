"""Mock Pro Santé Connect: discovery, JWKS, authorization code + PKCE, CIBA poll, refresh, revocation,
introspection, userinfo; tokens accepted by the API LPS verifier; secrets kept out of the recordings."""

from __future__ import annotations

import base64
import secrets
import ssl
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.jwk import KeySet

from segur_mss.operator.psc import CIBA_GRANT
from segur_mss.operator.service import ReferenceOperator

MARTIN = "81000000011"  # owns claire.martin@ (PER), member of secretariat.radiologie@ (ORG)
DURAND = "81000000029"
LEROY = "81000000037"
REDIRECT = "http://127.0.0.1:8765/retour"


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceOperator]:
    op = ReferenceOperator(tmp_path_factory.mktemp("operateur-psc")).start()
    yield op
    op.stop()


@pytest.fixture(scope="module")
def env(operator: ReferenceOperator) -> dict[str, Any]:
    return operator.env()


@pytest.fixture
def http(env: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(verify=ssl.create_default_context(cafile=env["ca_bundle"]), timeout=5) as client:
        yield client


@pytest.fixture(scope="module")
def meta(env: dict[str, Any]) -> dict[str, Any]:
    return httpx.get(env["psc"]["discovery"], verify=ssl.create_default_context(cafile=env["ca_bundle"])).json()


def creds(env: dict[str, Any]) -> tuple[str, str]:
    return env["psc"]["client_id"], env["psc"]["client_secret"]


def xoauth2(address: str, token: str) -> bytes:
    return f"user={address}\x01auth=Bearer {token}\x01\x01".encode()


def authorize(http: httpx.Client, meta: dict[str, Any], env: dict[str, Any], rpps: str, **extra: str) -> dict:
    """Run the authorization endpoint (no browser: login_hint auto-approval); returns the redirect's query."""
    params = {
        "response_type": "code",
        "client_id": env["psc"]["client_id"],
        "redirect_uri": REDIRECT,
        "scope": "openid scope_all",
        "state": "etat-1",
        "login_hint": rpps,
    } | extra
    response = http.get(meta["authorization_endpoint"], params=params)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def code_flow(http: httpx.Client, meta: dict[str, Any], env: dict[str, Any], rpps: str) -> dict[str, Any]:
    verifier = secrets.token_urlsafe(48)
    answer = authorize(
        http, meta, env, rpps, code_challenge=create_s256_code_challenge(verifier), code_challenge_method="S256"
    )
    response = http.post(
        meta["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=creds(env),
    )
    assert response.status_code == 200, response.text
    return response.json()


def token_error(response: httpx.Response) -> str:
    assert response.status_code in (400, 401), response.text
    return response.json()["error"]


# -- discovery ------------------------------------------------------------------------------------------------
def test_discovery_and_jwks_over_https_with_the_ca_bundle(http: httpx.Client, env: dict[str, Any]) -> None:
    meta = http.get(env["psc"]["discovery"]).json()
    assert meta["issuer"] == env["psc"]["issuer"]
    OpenIDProviderMetadata(meta).validate()
    assert meta["backchannel_token_delivery_modes_supported"] == ["poll"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert http.get(env["psc"]["issuer"].split("/auth/")[0] + "/.well-known/openid-configuration").json() == meta
    jwks = http.get(meta["jwks_uri"]).json()
    assert jwks["keys"][0]["kty"] == "EC" and "d" not in jwks["keys"][0]
    with pytest.raises(httpx.ConnectError):  # a client trusting only public CAs refuses the test operator
        httpx.get(env["psc"]["discovery"], timeout=5)


# -- authorization code + PKCE ------------------------------------------------------------------------------
def test_authorization_code_with_pkce_gives_tokens_the_api_lps_accepts(
    operator: ReferenceOperator, http: httpx.Client, meta: dict[str, Any], env: dict[str, Any]
) -> None:
    tokens = code_flow(http, meta, env, MARTIN)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == operator.authority.access_lifetime
    outcome = operator.verifier.verify("XOAUTH2", xoauth2("claire.martin@test.mssante.fr", tokens["access_token"]))
    assert outcome.success and outcome.grant is not None and outcome.grant.rpps == MARTIN
    org = operator.verifier.verify("XOAUTH2", xoauth2("secretariat.radiologie@test.mssante.fr", tokens["access_token"]))
    assert org.success
    foreign = operator.verifier.verify("XOAUTH2", xoauth2("paul.durand@test.mssante.fr", tokens["access_token"]))
    assert not foreign.success and foreign.reason == "mailbox_not_granted"
    keys = KeySet.import_key_set(http.get(meta["jwks_uri"]).json())
    id_token = jwt.decode(tokens["id_token"], keys).claims
    assert id_token["iss"] == meta["issuer"] and id_token["aud"] == env["psc"]["client_id"]
    assert id_token["sub"] == MARTIN


def test_standard_oauth_client_library_interoperates(
    operator: ReferenceOperator, meta: dict[str, Any], env: dict[str, Any]
) -> None:
    pytest.importorskip("authlib.integrations.httpx_client")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from authlib.integrations.httpx_client import OAuth2Client

        client_id, secret = creds(env)
        with OAuth2Client(
            client_id,
            secret,
            scope="openid scope_all",
            redirect_uri=REDIRECT,
            code_challenge_method="S256",
            verify=ssl.create_default_context(cafile=env["ca_bundle"]),
        ) as client:
            verifier = secrets.token_urlsafe(48)
            url, _state = client.create_authorization_url(
                meta["authorization_endpoint"], code_verifier=verifier, login_hint=DURAND, nonce="n-0S6"
            )
            browser = httpx.get(url, verify=ssl.create_default_context(cafile=env["ca_bundle"]))  # the "browser" leg
            location = browser.headers["location"]
            token = client.fetch_token(meta["token_endpoint"], authorization_response=location, code_verifier=verifier)
    assert operator.authority.verify(token["access_token"]).rpps == DURAND
    keys = KeySet.import_key_set(operator.authority.public_jwks())
    assert jwt.decode(token["id_token"], keys).claims["nonce"] == "n-0S6"


def test_wrong_pkce_verifier_and_code_reuse_are_refused(
    http: httpx.Client, meta: dict[str, Any], env: dict[str, Any]
) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = create_s256_code_challenge(verifier)
    code = authorize(http, meta, env, LEROY, code_challenge=challenge, code_challenge_method="S256")["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": secrets.token_urlsafe(48),
    }
    response = http.post(meta["token_endpoint"], data=form, auth=creds(env))
    assert token_error(response) == "invalid_grant"
    assert "code_verifier" in response.json()["error_description"]
    form["code_verifier"] = verifier  # the right one, too late: a code is used once
    assert token_error(http.post(meta["token_endpoint"], data=form, auth=creds(env))) == "invalid_grant"
    # PKCE is mandatory, S256 only
    assert authorize(http, meta, env, LEROY)["error"] == "invalid_request"
    plain = authorize(http, meta, env, LEROY, code_challenge=verifier, code_challenge_method="plain")
    assert plain["error"] == "invalid_request" and plain["state"] == "etat-1" and plain["iss"] == meta["issuer"]


def test_client_authentication_is_required(http: httpx.Client, meta: dict[str, Any], env: dict[str, Any]) -> None:
    response = http.post(
        meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        auth=(env["psc"]["client_id"], "mauvais-secret"),
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert "Basic" in response.headers["www-authenticate"]
    unknown = http.get(meta["authorization_endpoint"], params={"client_id": "inconnu", "redirect_uri": REDIRECT})
    assert unknown.status_code == 400  # never redirect for an unknown client
    chooser = http.get(
        meta["authorization_endpoint"],
        params={
            "response_type": "code",
            "client_id": env["psc"]["client_id"],
            "redirect_uri": REDIRECT,
            "scope": "openid",
            "code_challenge": create_s256_code_challenge("v" * 43),
            "code_challenge_method": "S256",
        },
    )
    assert chooser.status_code == 200 and "MARTIN" in chooser.text and "login_hint" in chooser.text


# -- CIBA --------------------------------------------------------------------------------------------------
def ciba_start(http: httpx.Client, meta: dict[str, Any], env: dict[str, Any], rpps: str) -> dict[str, Any]:
    client_id, secret = creds(env)
    response = http.post(
        meta["backchannel_authentication_endpoint"],
        data={
            "client_id": client_id,
            "client_secret": secret,
            "scope": "openid scope_all",
            "login_hint": rpps,
            "binding_message": "segur-mss",
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


def ciba_poll(http: httpx.Client, meta: dict[str, Any], env: dict[str, Any], auth_req_id: str) -> httpx.Response:
    return http.post(
        meta["token_endpoint"], data={"grant_type": CIBA_GRANT, "auth_req_id": auth_req_id}, auth=creds(env)
    )


def test_ciba_poll_pending_slow_down_then_approved(
    operator: ReferenceOperator, http: httpx.Client, meta: dict[str, Any], env: dict[str, Any]
) -> None:
    started = ciba_start(http, meta, env, DURAND)
    rid, interval = started["auth_req_id"], started["interval"]
    assert token_error(ciba_poll(http, meta, env, rid)) == "authorization_pending"
    assert token_error(ciba_poll(http, meta, env, rid)) == "slow_down"  # polled again at once
    operator.clock.advance(interval + 5)
    assert token_error(ciba_poll(http, meta, env, rid)) == "authorization_pending"
    assert operator.psc.approve_ciba(login_hint=DURAND) == 1
    operator.clock.advance(interval + 5)
    tokens = ciba_poll(http, meta, env, rid).json()
    outcome = operator.verifier.verify(
        "OAUTHBEARER",
        b"n,a=paul.durand@test.mssante.fr,\x01auth=Bearer " + tokens["access_token"].encode() + b"\x01\x01",
    )
    assert outcome.success and outcome.grant is not None and outcome.grant.rpps == DURAND
    assert token_error(ciba_poll(http, meta, env, rid)) == "invalid_grant"  # consumed
    (request,) = [r for r in operator.psc.ciba_requests() if r.auth_req_id == rid]
    answers = [p["reponse"] for p in request.summary()["interrogations"]]
    assert answers == ["authorization_pending", "slow_down", "authorization_pending", "tokens"]


def test_ciba_denied_expired_and_auto_approved(
    operator: ReferenceOperator, http: httpx.Client, meta: dict[str, Any], env: dict[str, Any]
) -> None:
    denied = ciba_start(http, meta, env, LEROY)["auth_req_id"]
    operator.psc.deny_ciba(denied)
    assert token_error(ciba_poll(http, meta, env, denied)) == "access_denied"
    expiring = ciba_start(http, meta, env, LEROY)
    operator.clock.advance(expiring["expires_in"] + 1)
    assert token_error(ciba_poll(http, meta, env, expiring["auth_req_id"])) == "expired_token"
    unknown = http.post(
        meta["backchannel_authentication_endpoint"],
        auth=creds(env),
        data={"scope": "openid", "login_hint": "80000000000"},
    )
    assert token_error(unknown) == "unknown_user_id"
    operator.psc.settings.auto_approve_ciba = True
    try:
        auto = ciba_start(http, meta, env, MARTIN)["auth_req_id"]
        response = ciba_poll(http, meta, env, auto)
        assert response.status_code == 200 and operator.authority.verify(response.json()["access_token"]).rpps == MARTIN
    finally:
        operator.psc.settings.auto_approve_ciba = False


# -- refresh, revocation, introspection, expiry ----------------------------------------------------------
def refresh(http: httpx.Client, meta: dict[str, Any], env: dict[str, Any], token: str) -> httpx.Response:
    return http.post(
        meta["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": token}, auth=creds(env)
    )


def introspect(http: httpx.Client, meta: dict[str, Any], env: dict[str, Any], token: str) -> dict[str, Any]:
    response = http.post(meta["introspection_endpoint"], data={"token": token}, auth=creds(env))
    assert response.status_code == 200
    return response.json()


def test_refresh_rotates_and_the_old_refresh_token_is_refused(
    http: httpx.Client, meta: dict[str, Any], env: dict[str, Any]
) -> None:
    first = code_flow(http, meta, env, MARTIN)
    second = refresh(http, meta, env, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    assert token_error(refresh(http, meta, env, first["refresh_token"])) == "invalid_grant"
    assert refresh(http, meta, env, rotated["refresh_token"]).status_code == 200


def test_revoked_refresh_tokens_are_refused(
    operator: ReferenceOperator, http: httpx.Client, meta: dict[str, Any], env: dict[str, Any]
) -> None:
    tokens = code_flow(http, meta, env, MARTIN)
    assert introspect(http, meta, env, tokens["refresh_token"])["active"] is True
    revoked = http.post(
        meta["revocation_endpoint"],
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        auth=creds(env),
    )
    assert revoked.status_code == 200
    assert "révoqué" in refresh(http, meta, env, tokens["refresh_token"]).json()["error_description"]
    assert introspect(http, meta, env, tokens["refresh_token"]) == {"active": False}
    # campaign control: revoke every refresh token of a professional
    other = code_flow(http, meta, env, DURAND)
    assert operator.psc.revoke_refresh_tokens(DURAND) >= 1
    assert token_error(refresh(http, meta, env, other["refresh_token"])) == "invalid_grant"
    # RFC 7009: unknown tokens are not an error
    assert http.post(meta["revocation_endpoint"], data={"token": "inconnu"}, auth=creds(env)).status_code == 200


def test_expired_refresh_tokens_are_refused(
    operator: ReferenceOperator, http: httpx.Client, meta: dict[str, Any], env: dict[str, Any]
) -> None:
    leroy = code_flow(http, meta, env, LEROY)
    martin = code_flow(http, meta, env, MARTIN)
    assert operator.psc.expire_refresh_tokens(MARTIN) >= 1  # campaign control, one professional
    response = refresh(http, meta, env, martin["refresh_token"])
    assert token_error(response) == "invalid_grant" and "expiré" in response.json()["error_description"]
    rotated = refresh(http, meta, env, leroy["refresh_token"])  # the others' are untouched
    assert rotated.status_code == 200
    operator.clock.advance(operator.authority.refresh_lifetime + 1)  # the clock, no sleeping
    assert token_error(refresh(http, meta, env, rotated.json()["refresh_token"])) == "invalid_grant"


def test_access_token_expiry_follows_the_clock_and_introspection(
    operator: ReferenceOperator, http: httpx.Client, meta: dict[str, Any], env: dict[str, Any]
) -> None:
    operator.psc.set_access_token_lifetime(30)
    try:
        tokens = code_flow(http, meta, env, DURAND)
        assert tokens["expires_in"] == 30
        access = tokens["access_token"]
        active = introspect(http, meta, env, access)
        assert active["active"] is True and active["sub"] == DURAND and active["client_id"] == env["psc"]["client_id"]
        info = http.get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {access}"}).json()
        assert info["family_name"] == "DURAND" and "paul.durand@test.mssante.fr" in info["mssante_bal"]
        operator.clock.advance(31)
        assert introspect(http, meta, env, access) == {"active": False}
        expired = operator.verifier.verify("XOAUTH2", xoauth2("paul.durand@test.mssante.fr", access))
        assert not expired.success and expired.reason == "expired"
        assert http.get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {access}"}).status_code == 401
        assert introspect(http, meta, env, "pas-un-jeton") == {"active": False}
    finally:
        operator.psc.set_access_token_lifetime(120)


def test_secrets_never_reach_the_recordings(
    operator: ReferenceOperator, http: httpx.Client, meta: dict[str, Any], env: dict[str, Any]
) -> None:
    with operator.capture() as cap:
        tokens = code_flow(http, meta, env, MARTIN)
        refreshed = refresh(http, meta, env, tokens["refresh_token"]).json()
        rid = ciba_start(http, meta, env, MARTIN)["auth_req_id"]
    assert {e.service for e in cap.http} == {"psc"}
    journal = (operator.recorder.directory / "http.jsonl").read_text(encoding="utf-8")
    recorded = journal + "".join(e.request + e.response for e in cap.http)
    basic = base64.b64encode(f"{env['psc']['client_id']}:{env['psc']['client_secret']}".encode()).decode()
    for secret in (
        env["psc"]["client_secret"],
        basic,
        tokens["access_token"],
        tokens["refresh_token"],
        tokens["id_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
        rid,
    ):
        assert secret not in recorded
    assert "grant_type=authorization_code" in recorded and "[EXPURGÉ]" in recorded
