"""The reference operator in a box: one asyncio loop (in a background thread) serving the API LPS."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from segur_mss.operator.clock import Clock
from segur_mss.operator.delivery import DeliveryAgent
from segur_mss.operator.faults import FaultController
from segur_mss.operator.http import OperatorWeb
from segur_mss.operator.identities import Population, load_population
from segur_mss.operator.imap import ImapServer, start_imap_server
from segur_mss.operator.imap_sasl import verify_client_certificate
from segur_mss.operator.mailstore import INBOX, MailStore, StoredMessage
from segur_mss.operator.patient import PatientDomain, PatientReply
from segur_mss.operator.pki import TestPki
from segur_mss.operator.recording import Capture, Recorder
from segur_mss.operator.sasl import BearerVerifier
from segur_mss.operator.smtp import SubmissionHandler
from segur_mss.operator.submission import make_operator_smtp_factory, make_smtps_factory
from segur_mss.operator.tls_profiles import TlsProfiles
from segur_mss.operator.tokens import TokenAuthority, TokenPair


@dataclass
class OperatorSettings:
    bind: str = "127.0.0.1"
    smtp_port: int = 0  # 0: ephemeral
    imap_port: int = 0
    imaps_port: int = 0  # implicit TLS (RFC 8314)
    smtps_port: int = 0  # implicit TLS (RFC 8314)
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
        self.smtp_handler.certificate_check = lambda der, authzid: verify_client_certificate(
            der, authzid, pki=self.pki, population=self.population, clock=self.clock
        )
        # Mail side (imap.py, delivery.py, patient.py, faults.py): mailboxes, delivery, MES, fault profiles
        self.faults = FaultController()
        self.mailstore = MailStore(self.population, self.clock)
        self.delivery = DeliveryAgent(self.mailstore, self.recorder, self.faults, self.clock, self.settings.hostname)
        self.smtp_handler.delivery_hooks.append(self.delivery.deliver_submission)
        self.patients = PatientDomain(self.mailstore, self.delivery, self.recorder, self.clock)
        self.imap_servers: dict[str, ImapServer] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.AbstractServer] = []
        self.ports: dict[str, int] = {}
        # HTTP(S) side (http.py): mock PSC, directory, auto-configuration, CRL; TLS profiles of the mail servers
        self.web = OperatorWeb(self)
        self.psc = self.web.psc
        self.directory = self.web.directory
        self.crl = self.web.crl

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
        await self.web.start()  # first: certificates (CRL URL) and the PSC issuer need its ports

        def factory() -> Any:  # the TLS profile in force is read at each new connection
            return make_operator_smtp_factory(
                self.smtp_handler, self.recorder, self.server_tls_context("smtp"), self.faults
            )()

        server = await self.loop.create_server(factory, self.settings.bind, self.settings.smtp_port)
        self._servers.append(server)
        self.ports["smtp"] = server.sockets[0].getsockname()[1]
        await self._start_mail_servers()

    async def _start_mail_servers(self) -> None:
        """IMAP (STARTTLS), IMAPS and SMTPS (implicit TLS); each connection takes the TLS profile in force."""
        assert self.loop is not None
        for name, implicit, port in (("imap", False, self.settings.imap_port),
                                     ("imaps", True, self.settings.imaps_port)):
            handler = ImapServer(
                store=self.mailstore, verifier=self.verifier, recorder=self.recorder, pki=self.pki, clock=self.clock,
                faults=self.faults, tls_context=lambda: self.server_tls_context("imap"), implicit_tls=implicit,
            )
            server = await start_imap_server(handler, self.settings.bind, port)
            self.imap_servers[name] = handler
            self._servers.append(server)
            self.ports[name] = server.sockets[0].getsockname()[1]
        smtps = make_smtps_factory(
            self.loop, self.smtp_handler, self.recorder, lambda: self.server_tls_context("smtp"), self.faults
        )
        server = await self.loop.create_server(smtps, self.settings.bind, self.settings.smtps_port)
        self._servers.append(server)
        self.ports["smtps"] = server.sockets[0].getsockname()[1]

    def add_server(self, name: str, starter: Callable[[], Coroutine[Any, Any, asyncio.AbstractServer]]) -> int:
        """Start another server on the operator's loop; returns its port."""
        server = self.call(starter())
        self._servers.append(server)
        self.ports[name] = server.sockets[0].getsockname()[1]
        return self.ports[name]

    def stop(self) -> None:
        if self.loop is None:
            self.web.release()
            return

        async def close_all() -> None:
            await self.web.stop()
            for server in self._servers:
                server.close()
            for imap in self.imap_servers.values():
                await imap.shutdown()
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

    def server_tls_context(self, service: str) -> ssl.SSLContext:
        """The SSL context a new `service` connection (imap, smtp) must use: the TLS profile in force."""
        return self.web.reserve().context(service)

    def tls_profile(self, name: str | None = None, services: Iterable[str] | None = None) -> ssl.SSLContext:
        """Select TLS profile `name` (tls_profiles.PROFILES) for new connections; returns its server context."""
        profiles = self.web.reserve()
        if name is None:
            return profiles.context(next(iter(services or ("imap",))))
        profiles.set(name, services)
        return profiles.context_for(name)

    @property
    def tls_profiles(self) -> TlsProfiles:
        return self.web.reserve()

    def reset_for_scenario(self) -> None:
        """Back to nominal between scenarios: no fault, nominal TLS, reachable valid CRL, default token lifetime,
        the real time. What was recorded stays recorded."""
        self.faults.clear()
        self.tls_profiles.reset()
        self.crl.reset()
        self.psc.set_access_token_lifetime(self.settings.access_token_lifetime)
        self.clock.reset()

    def deliver(
        self, recipient: str, message: bytes | Message, *, folder: str = INBOX, flags: tuple[str, ...] = ()
    ) -> StoredMessage:
        """Put crafted mail into a mailbox, as a correspondent's operator would (byte for byte, no SMTP)."""
        return self.call(self.delivery.deliver(recipient, message, folder=folder, flags=flags))

    def read_mailbox(self, address: str, folder: str = INBOX) -> list[StoredMessage]:
        """The messages of a mailbox folder, in UID order (what an IMAP client of that mailbox would see)."""
        return self.call(self.mailstore.messages(address, folder))

    def patient_reply(
        self, ins: str, to: str, in_reply_to_message_id: str, body: str, *, subject: str | None = None
    ) -> PatientReply:
        """The patient `<ins>@patient.mssante.fr` replies (Mon Espace Santé refuses after `X-MSS-MES: FIN`)."""
        return self.call(self.patients.reply(ins, to, in_reply_to_message_id, body, subject=subject))

    def issue_tokens(self, rpps: str, client_id: str) -> TokenPair:
        """Tokens for a professional, as PSC would issue them after a successful login."""
        return self.authority.issue(rpps, client_id)

    def env(self) -> dict[str, Any]:
        """What a candidate needs to connect (the `env.json` contract of DESIGN.md)."""
        host = self.web.host  # the bind address, or this machine's name when bound to every interface
        mailboxes = []
        for box in self.population.mailboxes.values():
            if box.type == "PATIENT":
                continue
            entry: dict[str, Any] = {"address": box.address, "type": box.type, "login_hint": box.owner or ""}
            entry.update(self.web.mailbox_credentials(box))
            mailboxes.append(entry)
        return self.web.env() | {
            "smtp": {"host": host, "port": self.ports.get("smtp", 0), "tls": "starttls"},
            "imap": {"host": host, "port": self.ports.get("imap", 0), "tls": "starttls"},
            "imaps": {"host": host, "port": self.ports.get("imaps", 0), "tls": "implicit"},
            "smtps": {"host": host, "port": self.ports.get("smtps", 0), "tls": "implicit"},
            "ca_bundle": str(self.pki.ca_bundle),
            "server_name": self.settings.hostname,
            "mailboxes": mailboxes,
            "patient_domain": self.population.patient_domain,
        }
