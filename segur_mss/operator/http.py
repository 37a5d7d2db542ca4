"""HTTP(S) endpoints of the reference operator, on the operator's asyncio loop, every exchange recorded.

`RecordedHttpServer` runs one aiohttp application on a listening socket reserved up front (so URLs, certificate
CRL distribution points and the PSC issuer are known before anything starts), and records each request/response
through `Recorder.record_http` (secrets redacted) and in `<recordings>/http.jsonl` as it happens.

`OperatorWeb` assembles what the operator serves over HTTP: the mock Pro Santé Connect, the directory and the
auto-configuration on one HTTPS listener, the CRL distribution point on a plain HTTP one (as IGC-Santé publishes
its CRLs), and the TLS profiles of the mail servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from segur_mss.operator.autoconfig import AUTOCONFIG_PATHS, AutoconfigService
from segur_mss.operator.crl import CrlPublisher
from segur_mss.operator.directory import DirectoryService
from segur_mss.operator.psc import PscProvider, PscSettings
from segur_mss.operator.recording import HttpExchange, Recorder
from segur_mss.operator.tls_profiles import TlsProfiles
from segur_mss.redaction import REDACTED, REDACTOR, Redactor

if TYPE_CHECKING:
    from segur_mss.operator.identities import Mailbox
    from segur_mss.operator.service import ReferenceOperator

BODY_LIMIT = 64 * 1024  # recorded characters per body
MAX_REQUEST = 1024 * 1024
SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie", "set-cookie", "esante-api-key")
TEXTUAL = ("json", "xml", "text", "x-www-form-urlencoded", "javascript")
WILDCARD_BINDS = ("0.0.0.0", "::", "")

ServiceOf = Callable[[str], str]


def _host_for_url(host: str) -> str:
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


def _body_text(body: bytes, content_type: str) -> str:
    if not body:
        return ""
    if not any(kind in content_type for kind in TEXTUAL):
        return f"[{len(body)} octets, {content_type or 'type inconnu'}]"
    text = body.decode("utf-8", "replace")
    if len(text) > BODY_LIMIT:
        text = text[:BODY_LIMIT] + f"\n[… {len(text) - BODY_LIMIT} caractères de plus]"
    return text


def _headers_text(headers: Any) -> str:
    lines = []
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} {REDACTED}".strip()
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


class RecordedHttpServer:
    """One aiohttp application on one reserved port of the operator's loop, with recording."""

    def __init__(
        self,
        name: str,
        recorder: Recorder,
        *,
        service_of: ServiceOf | None = None,
        redactor: Redactor = REDACTOR,
    ) -> None:
        self.name = name
        self.recorder = recorder
        self.redactor = redactor
        self.service_of: ServiceOf = service_of or (lambda _path: name)
        self.ssl_context: ssl.SSLContext | None = None
        self.app = web.Application(middlewares=[self._record], client_max_size=MAX_REQUEST)
        self.host = ""
        self.port = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self._sock: socket.socket | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.BaseSite | None = None
        self._journal = Path(recorder.directory) / "http.jsonl"
        self._journal_lock = threading.Lock()
        self.started = False

    # -- lifecycle ------------------------------------------------------------------------------------------
    def reserve(self, host: str, port: int = 0) -> int:
        """Bind the listening socket now (not yet accepting): the port is known before the server starts."""
        if self._sock is not None:
            return self.port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self._sock = sock
        self.host = host
        self.port = sock.getsockname()[1]
        return self.port

    async def start(self) -> None:
        assert self._sock is not None, "reserve() avant start()"
        self.loop = asyncio.get_running_loop()
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True)
        await self._runner.setup()
        self._site = web.SockSite(self._runner, self._sock, ssl_context=self.ssl_context)
        await self._site.start()
        self.started = True

    async def stop(self) -> None:
        if self._runner is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._runner.cleanup(), 5)
        self._runner = None
        self._site = None
        if self._sock is not None:
            self._sock.close()
        self.started = False

    def close_unstarted(self) -> None:
        """Release a reserved socket of a server that never started."""
        if not self.started and self._sock is not None:
            self._sock.close()

    async def close_listener(self) -> None:
        """Stop listening (new connections are refused), keep the application; see `reopen_listener`."""
        if self._site is not None:
            await self._site.stop()
            self._site = None

    async def reopen_listener(self) -> None:
        if self._runner is None or self._site is not None:
            return
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context, reuse_address=True)
        await site.start()
        self._site = site

    def run_sync(self, coro: Coroutine[Any, Any, Any], timeout: float = 10) -> Any:
        """Run a coroutine on the server's loop from another thread (or schedule it from the loop itself)."""
        assert self.loop is not None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            return self.loop.create_task(coro)
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def sockets(self) -> list[socket.socket]:
        return [self._sock] if self._sock is not None and self._sock.fileno() >= 0 else []

    # -- recording ------------------------------------------------------------------------------------------
    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        started = time.monotonic()
        at = self.recorder.stamp()
        try:
            body = await request.read()
        except web.HTTPException as exc:  # body too large...
            self._write(request, b"", exc, at, started)
            raise
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            self._write(request, body, exc, at, started)
            raise
        except asyncio.CancelledError:
            self._write(request, body, None, at, started, note="le client a abandonné la requête")
            raise
        except Exception as exc:
            self._write(request, body, None, at, started, note=f"erreur interne : {type(exc).__name__}")
            raise
        self._write(request, body, response, at, started)
        return response

    def _write(
        self,
        request: web.Request,
        body: bytes,
        response: web.StreamResponse | None,
        at: str,
        started: float,
        note: str = "",
    ) -> None:
        peer = request.remote or ""
        tls = ""
        ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
        if ssl_object is not None:
            tls = f"{ssl_object.version()} {(ssl_object.cipher() or ('',))[0]}"
        request_text = "\n".join(
            (
                f"{request.method} {request.path_qs} HTTP/{request.version.major}.{request.version.minor}",
                _headers_text(request.headers),
                "",
                _body_text(body, request.content_type),
            )
        )
        status = response.status if response is not None else 499 if "abandonné" in note else 500
        response_text = note
        if response is not None:
            raw = getattr(response, "body", None)
            payload = raw if isinstance(raw, bytes | bytearray) else getattr(response, "text", "") or ""
            if isinstance(payload, str):
                payload = payload.encode()
            content_type = response.headers.get("Content-Type", "")
            response_text = "\n".join(
                (
                    f"HTTP {response.status} {response.reason}",
                    _headers_text(response.headers),
                    "",
                    _body_text(bytes(payload), content_type),
                )
            )
        exchange = HttpExchange(
            service=self.service_of(request.path),
            method=request.method,
            path=request.path_qs,
            status=status,
            at=at,
            request=request_text,
            response=response_text,
        )
        self.recorder.record_http(exchange)  # redacts in place
        line = dataclasses.asdict(exchange) | {
            "client": peer,
            "tls": tls,
            "duree_ms": round((time.monotonic() - started) * 1000, 1),
        }
        with self._journal_lock, self._journal.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")


class OperatorWeb:
    """Everything the operator serves over HTTP(S), plus the TLS profiles of its mail servers."""

    def __init__(self, operator: ReferenceOperator) -> None:
        self.operator = operator
        extra = operator.settings.extra
        bind = operator.settings.bind
        self.bind = bind
        self.host = str(extra.get("advertised_host") or (bind if bind not in WILDCARD_BINDS else socket.gethostname()))
        self.crl = CrlPublisher(operator.pki)
        self.psc = PscProvider(
            operator.authority,
            operator.population,
            operator.clock,
            settings=PscSettings(auto_approve_ciba=bool(extra.get("psc_ciba_auto_approve", False))),
            test_client_secret=extra.get("psc_client_secret"),
        )
        self.directory = DirectoryService(operator.population, operator.clock)
        self.autoconfig = AutoconfigService(operator.population, host=self.host, ports=operator.ports, psc=self.psc)
        self.https = RecordedHttpServer("https", operator.recorder, service_of=self._service_of)
        self.crl_http = RecordedHttpServer("crl", operator.recorder)
        self.crl.server = self.crl_http
        self.psc.add_routes(self.https.app)
        self.directory.add_routes(self.https.app)
        self.autoconfig.add_routes(self.https.app)
        self.crl.add_routes(self.crl_http.app)
        self.tls: TlsProfiles | None = None
        self.base_url = ""
        self._lock = threading.Lock()

    def _service_of(self, path: str) -> str:
        if path.startswith(self.directory.base_path):
            return "annuaire"
        if self.psc.owns(path):
            return "psc"
        return "autoconfig" if path in AUTOCONFIG_PATHS else "https"

    @property
    def server_hosts(self) -> tuple[str, ...]:
        """Names the operator's server certificates carry."""
        hosts = [self.operator.settings.hostname, "localhost", "127.0.0.1", self.host]
        if self.bind not in WILDCARD_BINDS:
            hosts.append(self.bind)
        return tuple(dict.fromkeys(hosts))

    def reserve(self) -> TlsProfiles:
        """Bind the HTTP(S) ports and fix every URL (idempotent); returns the TLS profiles."""
        with self._lock:
            if self.tls is not None:
                return self.tls
            extra = self.operator.settings.extra
            https_port = self.https.reserve(self.bind, int(extra.get("https_port", 0)))
            try:
                crl_port = self.crl_http.reserve(self.bind, int(extra.get("crl_port", 0)))
            except OSError:
                self.https.close_unstarted()
                raise
            host = _host_for_url(self.host)
            self.base_url = f"https://{host}:{https_port}"
            self.crl.base_url = f"http://{host}:{crl_port}"
            self.psc.set_base_url(self.base_url)
            self.directory.base_url = self.base_url + self.directory.base_path
            self.autoconfig.base_url = self.base_url
            tls = TlsProfiles(self.operator.pki, hosts=self.server_hosts, crl=self.crl)
            tls.prepare()
            self.https.ssl_context = tls.https_context()
            self.operator.ports["https"] = https_port
            self.operator.ports["crl"] = crl_port
            self.tls = tls
            return tls

    async def start(self) -> None:
        self.reserve()
        await self.https.start()
        await self.crl_http.start()

    async def stop(self) -> None:
        await self.https.stop()
        await self.crl_http.stop()

    def release(self) -> None:
        """Close reserved sockets of servers that never started (operator built, never started)."""
        self.https.close_unstarted()
        self.crl_http.close_unstarted()

    @property
    def sockets(self) -> list[socket.socket]:
        return [*self.https.sockets, *self.crl_http.sockets]

    # -- what a candidate needs -------------------------------------------------------------------------------
    def mailbox_credentials(self, box: Mailbox) -> dict[str, str]:
        """Certificate and key files of an APP mailbox (an IGC-Santé-like "Organisation" certificate)."""
        if box.type != "APP":
            return {}
        local = box.address.split("@", 1)[0]
        bundle = self.operator.pki.client(f"bal-app-{local}", box.organisation or "ORGANISATION TEST", box.address)
        return {"certificate": str(bundle.cert_path), "key": str(bundle.key_path), "chain": str(bundle.chain_path)}

    def env(self) -> dict[str, Any]:
        """The HTTP part of `env.json` (PSC, directory, auto-configuration, CRL, TLS policy)."""
        self.reserve()
        client = self.psc.test_client
        return {
            "psc": {
                "issuer": self.psc.issuer,
                "discovery": self.psc.discovery_url,
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "token_endpoint_auth_methods": ["client_secret_basic", "client_secret_post"],
                "flows": ["authorization_code+pkce(S256)", "ciba(poll)", "refresh_token"],
                "ciba_auto_approve": self.psc.settings.auto_approve_ciba,
                "access_token_lifetime": self.operator.authority.access_lifetime,
                "redirect_uris": list(client.redirect_uris),
                "scope": "openid scope_all",
            },
            "directory": {"url": self.directory.base_url},
            "autoconfig": {
                "url": self.base_url,
                "mozilla": f"{self.base_url}/mail/config-v1.1.xml?emailaddress={{adresse}}",
                "well_known": f"{self.base_url}/.well-known/autoconfig/mail/config-v1.1.xml",
                "srv": f"{self.base_url}/autoconfig/srv.json",
            },
            "crl": {"url": self.crl.url, "root_url": self.crl.root_url},
            "tls_policy": {
                "minimum_version": "TLSv1.2",
                "tls12_ciphers": list(self.tls.policy.tls12_ciphers) if self.tls else [],
            },
        }
