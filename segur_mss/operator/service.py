"""The reference operator in a box: one asyncio loop (in a background thread) serving the API LPS."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segur_mss.operator.clock import Clock
from segur_mss.operator.identities import Population, load_population
from segur_mss.operator.pki import TestPki
from segur_mss.operator.recording import Capture, Recorder
from segur_mss.operator.sasl import BearerVerifier
from segur_mss.operator.smtp import SubmissionHandler, make_submission_factory
from segur_mss.operator.tokens import TokenAuthority, TokenPair


@dataclass
class OperatorSettings:
    bind: str = "127.0.0.1"
    smtp_port: int = 0  # 0: ephemeral
    hostname: str = "mss.test.mssante.fr"
    access_token_lifetime: int = 120
    extra: dict[str, Any] = field(default_factory=dict)


class ReferenceOperator:
    """Owns the PKI, the token authority, the population, the recorder and the servers."""

    def __init__(self, workdir: Path, settings: OperatorSettings | None = None) -> None:
        self.workdir = Path(workdir)
        self.settings = settings or OperatorSettings()
        self.clock = Clock()
        self.population: Population = load_population()
        self.pki = TestPki(self.workdir / "pki")
        self.recorder = Recorder(self.workdir / "enregistrements", self.clock)
        self.authority = TokenAuthority(
            issuer="https://127.0.0.1/psc", clock=self.clock, access_lifetime=self.settings.access_token_lifetime
        )
        self.verifier = BearerVerifier(self.authority, self.population)
        self.smtp_handler = SubmissionHandler(self.verifier, self.recorder, self.settings.hostname)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.AbstractServer] = []
        self.ports: dict[str, int] = {}

    # -- lifecycle --------------------------------------------------------------------------------------
    def start(self) -> ReferenceOperator:
        ready = threading.Event()
        self.loop = asyncio.new_event_loop()

        def run() -> None:
            assert self.loop is not None
            asyncio.set_event_loop(self.loop)
            self.loop.call_soon(ready.set)
            self.loop.run_forever()

        self._thread = threading.Thread(target=run, name="operateur-reference", daemon=True)
        self._thread.start()
        ready.wait()
        self.call(self._start_servers())
        return self

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        """Run a coroutine on the operator's loop and wait for its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _start_servers(self) -> None:
        assert self.loop is not None
        smtp_cert = self.pki.server("serveur-smtp")
        tls = self.pki.server_context(smtp_cert, client_ca=False)
        factory = make_submission_factory(self.smtp_handler, self.recorder, tls)
        server = await self.loop.create_server(factory, self.settings.bind, self.settings.smtp_port)
        self._servers.append(server)
        self.ports["smtp"] = server.sockets[0].getsockname()[1]

    def add_server(self, name: str, starter: Callable[[], Coroutine[Any, Any, asyncio.AbstractServer]]) -> int:
        """Start another server on the operator's loop; returns its port."""
        server = self.call(starter())
        self._servers.append(server)
        self.ports[name] = server.sockets[0].getsockname()[1]
        return self.ports[name]

    def stop(self) -> None:
        if self.loop is None:
            return

        async def close_all() -> None:
            for server in self._servers:
                server.close()
            for server in self._servers:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(server.wait_closed(), 2)

        with contextlib.suppress(Exception):
            self.call(close_all(), timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        if self._thread:
            self._thread.join(5)
        self.loop.close()
        self.loop = None
        for transcript in self.recorder.transcripts:
            transcript.close("arrêt de l'opérateur")

    def __enter__(self) -> ReferenceOperator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- for the campaign -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def capture(self) -> Iterator[Capture]:
        with self.recorder.capture() as cap:
            yield cap

    def issue_tokens(self, rpps: str, client_id: str) -> TokenPair:
        """Tokens for a professional, as PSC would issue them after a successful login."""
        return self.authority.issue(rpps, client_id)

    def env(self) -> dict[str, Any]:
        """What a candidate needs to connect (the `env.json` contract of DESIGN.md)."""
        host = self.settings.bind
        mailboxes = []
        for box in self.population.mailboxes.values():
            if box.type == "PATIENT":
                continue
            entry: dict[str, Any] = {"address": box.address, "type": box.type, "login_hint": box.owner or ""}
            mailboxes.append(entry)
        return {
            "smtp": {"host": host, "port": self.ports.get("smtp", 0), "tls": "starttls"},
            "imap": {"host": host, "port": self.ports.get("imap", 0), "tls": "starttls"},
            "ca_bundle": str(self.pki.ca_bundle),
            "server_name": self.settings.hostname,
            "mailboxes": mailboxes,
            "patient_domain": self.population.patient_domain,
        }
