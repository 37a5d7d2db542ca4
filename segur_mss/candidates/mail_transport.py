"""What the IMAP and SMTP sessions of the candidate share: where the servers are, how the candidate
authenticates, what can go wrong, and a private event loop for the asyncio-based SMTP client."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from segur_mss.candidates.tls_policy import ClientCertificate

T = TypeVar("T")


@dataclass(frozen=True)
class ServerAddress:
    """A mail server as configured or auto-configured: `tls` is `starttls` or `implicit`."""

    host: str
    port: int
    tls: str = "starttls"

    def describe(self) -> dict[str, object]:
        return {"hote": self.host, "port": self.port, "tls": self.tls}


@dataclass(frozen=True)
class MailCredentials:
    """How the mailbox opens: a PSC access token (PER/ORG) or the organisation's certificate (APP)."""

    address: str
    access_token: str = ""
    certificate: ClientCertificate | None = None

    @property
    def method(self) -> str:
        return "certificat" if self.certificate else "jeton PSC"


class MailSessionError(Exception):
    """A mail session failed; `code` is stable, the message French."""

    code = "session"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class SessionDropped(MailSessionError):
    """The server closed or cut the session (IMAP BYE, SMTP 421, connection reset)."""

    code = "session_interrompue"


class AuthenticationRefused(MailSessionError):
    """The server refused the SASL authentication."""

    code = "authentification_refusee"


class ServerUnreachable(MailSessionError):
    """No connection could be opened."""

    code = "connexion_impossible"


#: Checks the server after the TLS handshake, before any credential (policy, revocation); returns evidence.
PeerCheck = Callable[[ssl.SSLObject | ssl.SSLSocket, str], dict[str, Any]]


class MailSession(Protocol):
    """What the candidate's authentication rules need from an IMAP or SMTP session."""

    protocol: str

    @property
    def tls_established(self) -> bool: ...

    def starttls(self) -> dict[str, Any]: ...

    def authenticate_bearer(self, mechanism: str, address: str, token: str) -> str: ...

    def authenticate_external(self, address: str) -> str: ...

    def login_password(self, address: str, password: str) -> str: ...


class AsyncRunner:
    """A private event loop in a daemon thread: coroutines run there whatever the caller's context."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        loop = self._ensure()
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=serve, name="candidat-smtp", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def close(self) -> None:
        with self._lock:
            loop, self._loop = self._loop, None
            thread, self._thread = self._thread, None
        if loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(5)
        loop.close()
