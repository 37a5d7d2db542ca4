"""IMAP server of the API LPS, on pymap (in-memory folders of `MailStore`).

What pymap gives: the IMAP4rev1 protocol core (parsing, state machine, folders, FETCH/SEARCH/STORE/IDLE...).
What this module adds, by subclassing pymap's connection and state classes (see `ApiLpsConnection`):
- STARTTLS on one port and implicit TLS on another, the TLS context taken per connection from a provider;
- SASL XOAUTH2 and OAUTHBEARER verified against the mock Pro Santé Connect (`BearerVerifier`), SASL EXTERNAL from the
  TLS client certificate for APP mailboxes, the RFC 4959 initial response; no LOGIN, no PLAIN (`LOGINDISABLED`);
  authentication only after TLS, even from localhost (pymap's default lets localhost in without TLS);
- a session sees only the folders of the mailbox its token or certificate grants;
- a transcript per connection (client and server lines, TLS parameters, SASL mechanism, token summary; secrets
  redacted, message contents summarised);
- bounds on lines and LITERAL+ literals, an idle timeout, and the operator's fault profiles.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import ssl
import sys
from argparse import Namespace
from base64 import b64encode
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager, closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from proxyprotocol.sock import SocketInfo
from pymap.backend.dict import Config as DictConfig
from pymap.backend.dict import Session as DictSession
from pymap.concurrent import Subsystem
from pymap.context import connection_exit, current_command
from pymap.exceptions import AuthorizationFailure, InvalidAuth, NotAllowedError, ResponseError
from pymap.imap import IMAPConnection
from pymap.imap.state import ConnectionState
from pymap.interfaces.login import IdentityInterface, LoginInterface
from pymap.parsing.command import Command
from pymap.parsing.command.nonauth import LoginCommand
from pymap.parsing.commands import Commands
from pymap.parsing.response import (
    CommandResponse,
    Response,
    ResponseBye,
    ResponseCode,
    ResponseContinuation,
    ResponseNo,
    ResponseOk,
)
from pymap.parsing.state import ExpectContinuation, ParsingInterrupt
from pymap.token import AllTokens
from pymap.user import UserMetadata
from pysasl import SASLAuth
from pysasl.creds.server import ServerCredentials
from pysasl.exception import AuthenticationError, InvalidResponse
from pysasl.hashing import BuiltinHash
from pysasl.mechanism import ChallengeResponse, ServerChallenge

from segur_mss.operator.clock import Clock
from segur_mss.operator.faults import ConnectionFaults, FaultController
from segur_mss.operator.imap_sasl import (
    GrantedCredentials,
    SaslIrAuthenticateCommand,
    api_lps_mechanisms,
    decode_sasl_response,
    verify_client_certificate,
)
from segur_mss.operator.mailstore import MailStore
from segur_mss.operator.pki import TestPki
from segur_mss.operator.recording import Recorder, Transcript, redact_auth_lines
from segur_mss.operator.sasl import BearerVerifier, SaslOutcome
from segur_mss.operator.smtp import tls_parameters

LINE_LIMIT = 64 * 1024  # one command line (LITERAL+ literals apart)
APPEND_LIMIT = 64 * 1024 * 1024  # same as the submission server's DATA limit
IDLE_TIMEOUT = 30 * 60.0  # RFC 3501 §5.4: the autologout timer is at least 30 minutes
PREAUTH_TIMEOUT = 5 * 60.0  # before authentication, idle connections are dropped sooner
HANDSHAKE_TIMEOUT = 20.0
GREETING = b"segur-mss reference operator, API LPS IMAP ready"
_LITERAL_PLUS = re.compile(rb"~?\{(\d+)\+\}\r?\n$")
_LITERAL_IN_RESPONSE = re.compile(rb"~?\{(\d+)\}$")

#: Gives the TLS context for a new connection (the TLS policy and its faults can change between connections).
TlsContextProvider = Callable[[], ssl.SSLContext]


class _Disconnect(EOFError):
    """Ends the connection quietly (pymap's loop treats EOFError as the client going away)."""


def imap_line_filter(transcript: Transcript, direction: str, line: str) -> str | None:
    """`redact_auth_lines`, except that only SASL continuations (not literal or IDLE ones) hide the next line."""
    if direction == "S" and line.startswith("+") and not transcript.state.get("sasl"):
        transcript.state["sasl_continuation"] = False
        return line
    return redact_auth_lines(transcript, direction, line)


def render_server_output(data: bytes) -> list[str]:
    """Server bytes as transcript lines, each literal replaced by its size (message contents are kept apart)."""
    lines: list[str] = []
    current = b""
    pos = 0
    while pos < len(data):
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            current += data[pos:]
            break
        segment = data[pos:eol]
        pos = eol + 2
        match = _LITERAL_IN_RESPONSE.search(segment)
        if match:
            size = int(match.group(1))
            current += segment + f" [littéral de {size} octets]".encode()
            pos += size
            continue
        lines.append((current + segment).decode("utf-8", "replace"))
        current = b""
    if current:
        lines.append(current.decode("utf-8", "replace"))
    return lines


# -- configuration, login, identity ---------------------------------------------------------------------------
class ApiLpsImapConfig(DictConfig):
    """pymap configuration of the API LPS (on the dict backend's, for its session and folder classes)."""

    def __init__(self, ssl_context: ssl.SSLContext, *, max_append_len: int = APPEND_LIMIT) -> None:
        args = Namespace(debug=False, passlib_cfg=None, proxy_protocol=None)
        super().__init__(
            args,
            host=None,
            port=0,
            demo_data=False,
            demo_user="",
            demo_password="",
            ssl_context=ssl_context,
            tls_enabled=True,
            hash_context=BuiltinHash(),
            cpu_subsystem=Subsystem.for_asyncio(),
            invalid_user_sleep=0.0,
            reject_dnsbl=False,
            max_append_len=max_append_len,
            bad_command_limit=5,
        )
        commands = Commands()
        commands.register(SaslIrAuthenticateCommand)
        self._commands = commands
        self.literal_limit = max_append_len

    @property
    def commands(self) -> Commands:
        return self._commands

    @property
    def tls_auth(self) -> SASLAuth:
        return SASLAuth(api_lps_mechanisms())

    @property
    def initial_capability(self) -> list[bytes]:
        return [*super().initial_capability, b"SASL-IR"]

    @property
    def greeting(self) -> bytes:
        return GREETING

    @property
    def id_response(self) -> dict[bytes, bytes]:
        return {b"name": b"segur-mss", b"vendor": b"segur-mss reference operator"}


class MailboxIdentity(IdentityInterface):
    """A mailbox of the operator, as pymap's identity: its session sees that mailbox's folders only."""

    def __init__(self, credentials: GrantedCredentials, store: MailStore, config: ApiLpsImapConfig) -> None:
        self.credentials = credentials
        self.store = store
        self.config = config

    @property
    def name(self) -> str:
        return self.credentials.mailbox.address

    @property
    def roles(self) -> frozenset[str]:
        return frozenset()

    @asynccontextmanager
    async def new_session(self) -> AsyncIterator[DictSession]:
        account = self.store.account(self.name)
        yield DictSession(self.name, self.config, account.folders, account.filters)

    async def new_token(self, *, expiration: datetime | None = None) -> str | None:
        return None

    async def get(self) -> UserMetadata:
        return UserMetadata(self.config, self.name)

    async def set(self, metadata: UserMetadata) -> int | None:
        raise NotAllowedError("Mailbox metadata is managed by the operator.")

    async def delete(self) -> None:
        raise NotAllowedError("Mailbox metadata is managed by the operator.")


class ApiLpsLogin(LoginInterface):
    """pymap login: only credentials the connection has verified (`GrantedCredentials`) open a session."""

    def __init__(self, store: MailStore, config: ApiLpsImapConfig) -> None:
        self.store = store
        self.config = config
        self._tokens = AllTokens(config)

    @property
    def tokens(self) -> AllTokens:
        return self._tokens

    async def authenticate(self, credentials: ServerCredentials) -> MailboxIdentity:
        if not isinstance(credentials, GrantedCredentials):
            raise InvalidAuth()
        return MailboxIdentity(credentials, self.store, self.config)

    async def authorize(self, authenticated: IdentityInterface, authzid: str) -> IdentityInterface:
        if authzid and authzid.lower() != authenticated.name.lower():
            raise AuthorizationFailure()
        return authenticated


# -- connection state and connection --------------------------------------------------------------------------
class ApiLpsState(ConnectionState):
    """pymap's state machine, with TLS required before any authentication."""

    def __init__(self, login: LoginInterface, config: ApiLpsImapConfig, *, implicit_tls: bool) -> None:
        super().__init__(login, config)
        self.tls = implicit_tls
        if implicit_tls:
            self._capability.remove(b"STARTTLS")
            self.auth = config.tls_auth

    async def do_greeting(self) -> CommandResponse:
        # pymap opens authentication without TLS to localhost clients: not here, every client is on localhost.
        return ResponseOk(b"*", self.config.greeting, self.capability)

    async def do_login(self, cmd: LoginCommand) -> tuple[CommandResponse, None]:
        code = b"CANNOT" if self.tls else b"PRIVACYREQUIRED"
        text = b"LOGIN is disabled, use AUTHENTICATE XOAUTH2, OAUTHBEARER or EXTERNAL."
        return ResponseNo(cmd.tag, text, ResponseCode.of(code)), None


class _PrivacyRequired(ResponseError):
    def get_response(self, tag: bytes) -> ResponseNo:
        return ResponseNo(tag, b"Authentication requires TLS, use STARTTLS first.", ResponseCode.of(b"PRIVACYREQUIRED"))


class _BufferWriter:
    """Collects a response's bytes so that it goes out in one write and into the transcript."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data


class ApiLpsConnection(IMAPConnection):
    """pymap's connection loop, with the API LPS's SASL, recording, bounds and faults."""

    def __init__(
        self,
        server: ImapServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        transcript: Transcript,
        faults: ConnectionFaults | None,
    ) -> None:
        super().__init__(
            server.commands, server.config, reader, writer, SocketInfo.get(writer, None, unique_id=os.urandom(8))
        )
        self.server = server
        self.transcript = transcript
        self.faults = faults
        self.state: ApiLpsState | None = None
        self._bad_commands = 0
        self.linger = False
        self.authenticated = False

    # -- reading --------------------------------------------------------------------------------------------
    @property
    def _idle_timeout(self) -> float:
        return IDLE_TIMEOUT if self.authenticated else PREAUTH_TIMEOUT

    async def _read_line(self) -> bytes:
        try:
            async with asyncio.timeout(self._idle_timeout):
                return await self.reader.readuntil(b"\n")
        except asyncio.LimitOverrunError:
            await self._bye(b"Command line too long.", "ligne de commande trop longue", code=b"TOOBIG")
            raise _Disconnect() from None
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                self.transcript.line("C", exc.partial.decode("utf-8", "replace") + " [ligne interrompue]")
            raise EOFError() from None
        except TimeoutError:
            await self._bye(b"Autologout, idle for too long.", "délai d'inactivité dépassé")
            raise _Disconnect() from None

    async def _read_literal(self, size: int) -> bytes:
        if size > self.server.config.literal_limit:
            await self._bye(b"Literal too big.", f"littéral de {size} octets refusé", code=b"TOOBIG")
            raise _Disconnect()
        try:
            async with asyncio.timeout(self._idle_timeout):
                data = await self.reader.readexactly(size)
        except asyncio.IncompleteReadError:
            self.transcript.line("C", f"[littéral interrompu : {size} octets annoncés]")
            raise EOFError() from None
        except TimeoutError:
            await self._bye(b"Autologout, idle for too long.", "délai d'inactivité dépassé")
            raise _Disconnect() from None
        self.transcript.line("C", f"[littéral de {size} octets]")
        return data

    async def readline(self) -> memoryview:
        buf = bytearray()
        while True:
            line = await self._read_line()
            buf += line
            self.transcript.line("C", line.rstrip(b"\r\n").decode("utf-8", "replace"))
            match = _LITERAL_PLUS.search(line)
            if not match:
                return memoryview(buf)
            buf += await self._read_literal(int(match.group(1)))

    async def read_continuation(self, literal_length: int) -> memoryview:
        literal = await self._read_literal(literal_length) if literal_length else b""
        line = await self.readline()
        return memoryview(literal + bytes(line))

    async def _interrupt(
        self, state: ConnectionState, interrupt: ParsingInterrupt, continuations: list[memoryview]
    ) -> None:
        expected = interrupt.expected
        if isinstance(expected, ExpectContinuation) and expected.literal_length > self.server.config.literal_limit:
            await self._bye(b"Literal too big.", f"littéral de {expected.literal_length} octets refusé", code=b"TOOBIG")
            raise _Disconnect()
        await super()._interrupt(state, interrupt, continuations)

    async def read_command(self, state: ConnectionState) -> Command:
        cmd = await super().read_command(state)
        if self.faults is not None:
            verdict = self.faults.command()
            if verdict:
                await self._fault(verdict, f"après {self.faults.commands - 1} commande(s)")
        return cmd

    # -- writing --------------------------------------------------------------------------------------------
    async def write_response(self, resp: Response) -> None:
        if self.faults is not None and self.faults.delay:
            await asyncio.sleep(self.faults.delay)
        if isinstance(resp, CommandResponse):
            self._count_bad(resp)
        buffer = _BufferWriter()
        await resp.async_write(buffer)
        data = bytes(buffer.data)
        try:
            self.writer.write(data)
            await self.writer.drain()
        except ConnectionError:
            return
        for line in render_server_output(data):
            self.transcript.server_line(line)

    def _count_bad(self, resp: CommandResponse) -> None:
        # pymap counts consecutive BAD replies and ends the connection at its limit, but adds its BYE after the
        # reply is written (pymap 0.36.7): the BYE is added here, before the reply goes out.
        if not resp.is_bad:
            self._bad_commands = 0
            return
        self._bad_commands += 1
        if self.bad_command_limit and self._bad_commands >= self.bad_command_limit:
            resp.add_untagged(ResponseBye(b"Too many errors, disconnecting."))
            self.transcript.event(
                "fermeture", "fermeture par le serveur : trop de commandes invalides", reason="bad_commands"
            )

    async def _bye(self, text: bytes, reason: str, *, code: bytes | None = None) -> None:
        self.transcript.event("fermeture", f"fermeture par le serveur : {reason}", reason=reason)
        self.linger = True  # the client may still be sending: read it away so that it gets the BYE, not a reset
        with contextlib.suppress(Exception):
            await self.write_response(ResponseBye(text, ResponseCode.of(code) if code else None))

    async def _fault(self, verdict: str, when: str) -> None:
        assert self.faults is not None
        if verdict == "drop":
            self.faults.record(self.transcript, "drop", f"panne simulée : connexion coupée sans réponse {when}")
            self.writer.transport.abort()
        else:
            self.faults.record(self.transcript, "bye", f"panne simulée : BYE {when}")
            with contextlib.suppress(Exception):
                await self.write_response(
                    ResponseBye(b"Service unavailable, closing connection.", ResponseCode.of(b"UNAVAILABLE"))
                )
        raise _Disconnect()

    # -- TLS ------------------------------------------------------------------------------------------------
    async def start_tls(self) -> None:
        context = self.server.tls_context()
        try:
            await self.writer.start_tls(context, ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
        except (ssl.SSLError, ConnectionError, TimeoutError, OSError) as exc:
            self.transcript.event("tls_echec", f"échec de la négociation TLS (STARTTLS) : {exc}", error=str(exc))
            raise
        record_tls(self.transcript, self.writer, "STARTTLS")
        if self.state is not None:
            self.state.tls = True

    # -- SASL -----------------------------------------------------------------------------------------------
    async def authenticate(self, state: ConnectionState, mech_name: bytes) -> ServerCredentials | None:
        assert isinstance(state, ApiLpsState)
        if not state.tls:
            raise _PrivacyRequired()
        mech = state.auth.get_server(mech_name)
        if mech is None:
            self.transcript.event(
                "auth",
                f"mécanisme SASL non proposé : {mech_name.decode('ascii', 'replace')}",
                mechanism=mech_name.decode("ascii", "replace"),
                success=False,
                reason="mechanism",
            )
            return None
        mechanism = mech_name.decode("ascii")
        cmd = current_command.get()
        responses: list[ChallengeResponse] = []
        initial = getattr(cmd, "initial_response", None)
        self.transcript.state["sasl"] = True
        try:
            if initial is not None:
                try:
                    responses.append(ChallengeResponse(b"", decode_sasl_response(initial)))
                except ValueError:
                    raise AuthenticationError("Invalid base64 in initial response.") from None
            while True:
                try:
                    mech.server_attempt(responses)
                except ServerChallenge as chal:
                    await self.write_response(ResponseContinuation(b64encode(chal.data)))
                    answer = bytes(await self.read_continuation(0)).rstrip(b"\r\n")
                    if answer == b"*":
                        raise AuthenticationError("Authentication cancelled.") from None
                    try:
                        responses.append(ChallengeResponse(chal.data, decode_sasl_response(answer)))
                    except ValueError:
                        raise AuthenticationError("Invalid base64 in SASL response.") from None
                except (InvalidResponse, ValueError):  # incl. UnicodeDecodeError (pysasl's EXTERNAL decodes strictly)
                    break  # malformed: the verification below refuses it with the mechanism's error
                else:
                    break
            blob = responses[0].response if responses else b""
            if mech_name == b"EXTERNAL":
                return self._external(blob)
            return await self._bearer(mechanism, blob)
        finally:
            self.transcript.state["sasl"] = False

    def _refused_by_fault(self, mechanism: str) -> bool:
        if self.faults is not None and self.faults.refuse_auth:
            self.faults.record(self.transcript, "refuse_auth", f"panne simulée : authentification {mechanism} refusée")
            return True
        return False

    async def _bearer(self, mechanism: str, blob: bytes) -> GrantedCredentials:
        outcome = self.server.verifier.verify(mechanism, blob)
        if outcome.success and self._refused_by_fault(mechanism):
            outcome = SaslOutcome(
                False,
                mechanism,
                outcome.user,
                outcome.mailbox,
                reason="fault",
                message="refus simulé par le profil de panne",
            )
        record_bearer_auth(self.transcript, outcome)
        if outcome.success and outcome.mailbox is not None:
            self.server.stats.authenticated += 1
            self.authenticated = True
            return GrantedCredentials(outcome.mailbox, mechanism, outcome)
        # RFC 7628 §3.2.2 (and XOAUTH2): a final challenge carries the JSON error; the client answers, then NO.
        await self.write_response(ResponseContinuation(b64encode(outcome.error_challenge())))
        await self.read_continuation(0)
        raise InvalidAuth()

    def _external(self, blob: bytes) -> GrantedCredentials:
        ssl_object = self.writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        authzid = blob.decode("utf-8", "replace")
        outcome = verify_client_certificate(
            der, authzid, pki=self.server.pki, population=self.server.verifier.population, clock=self.server.clock
        )
        if outcome.success and self._refused_by_fault("EXTERNAL"):
            outcome = dataclasses.replace(outcome, success=False, reason="fault", message="refus simulé")
        if outcome.success:
            self.transcript.event(
                "auth",
                f"authentification EXTERNAL acceptée pour {outcome.address}",
                mechanism="EXTERNAL",
                mailbox=outcome.address,
                success=True,
                certificate=outcome.subject,
                issuer=outcome.issuer,
            )
            assert outcome.mailbox is not None
            self.server.stats.authenticated += 1
            self.authenticated = True
            return GrantedCredentials(outcome.mailbox, "EXTERNAL", outcome)
        self.transcript.event(
            "auth",
            f"authentification EXTERNAL refusée : {outcome.message}",
            mechanism="EXTERNAL",
            mailbox=outcome.address,
            success=False,
            reason=outcome.reason,
            certificate=outcome.subject,
        )
        raise InvalidAuth()

    # -- the loop -------------------------------------------------------------------------------------------
    def close(self) -> None:
        if not self.linger:  # otherwise the server lingers, then closes
            super().close()

    async def send_error_disconnect(self) -> None:
        if isinstance(sys.exc_info()[1], _Disconnect):
            return  # already said goodbye (or dropped on purpose)
        await super().send_error_disconnect()

    async def run(self, state: ConnectionState) -> None:
        assert isinstance(state, ApiLpsState)
        self.state = state
        if self.faults is not None:
            verdict = self.faults.at_greeting()
            if verdict:
                with contextlib.suppress(_Disconnect):
                    await self._fault(verdict, "dès la connexion")
                return
        await super().run(state)


def record_tls(transcript: Transcript, writer: asyncio.StreamWriter, how: str) -> None:
    params = tls_parameters(writer.transport)
    transcript.event("tls", f"TLS négocié ({how}) : {params.get('version')} {params.get('cipher')}", how=how, **params)


def record_bearer_auth(transcript: Transcript, outcome: SaslOutcome) -> None:
    if outcome.success and outcome.grant:
        transcript.event(
            "auth",
            f"authentification {outcome.mechanism} acceptée pour {outcome.user}",
            mechanism=outcome.mechanism,
            mailbox=outcome.user,
            success=True,
            token=outcome.grant.summary(),
        )
    else:
        transcript.event(
            "auth",
            f"authentification {outcome.mechanism} refusée : {outcome.message}",
            mechanism=outcome.mechanism,
            mailbox=outcome.user,
            success=False,
            reason=outcome.reason,
        )


# -- the server -----------------------------------------------------------------------------------------------
@dataclass
class ImapStats:
    """Connection counters (hostile-input tests read them)."""

    accepted: int = 0
    active: int = 0
    authenticated: int = 0
    tls_failures: int = 0
    errors: int = 0


class ImapServer:
    """The connection handler given to `asyncio.start_server`; one instance per listening port."""

    def __init__(
        self,
        *,
        store: MailStore,
        verifier: BearerVerifier,
        recorder: Recorder,
        pki: TestPki,
        clock: Clock,
        faults: FaultController,
        tls_context: TlsContextProvider,
        implicit_tls: bool = False,
    ) -> None:
        self.store = store
        self.verifier = verifier
        self.recorder = recorder
        self.pki = pki
        self.clock = clock
        self.faults = faults
        self.tls_context = tls_context
        self.implicit_tls = implicit_tls
        self.config = ApiLpsImapConfig(tls_context())
        self.commands = self.config.commands
        self.login = ApiLpsLogin(store, self.config)
        self.stats = ImapStats()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        transcript = self.recorder.open_transcript("imap", f"{peer[0]}:{peer[1]}", imap_line_filter)
        transcript.event("port", "TLS implicite" if self.implicit_tls else "STARTTLS", implicit_tls=self.implicit_tls)
        self.stats.accepted += 1
        self.stats.active += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        reason = "connexion fermée"
        conn: ApiLpsConnection | None = None
        try:
            if self.implicit_tls and not await self._handshake(writer, transcript):
                reason = "échec TLS"
                return
            faults = self.faults.for_connection("imap")
            if faults is not None:
                faults.opened(transcript)
            conn = ApiLpsConnection(self, reader, writer, transcript, faults)
            state = ApiLpsState(self.login, self.config, implicit_tls=self.implicit_tls)
            async with AsyncExitStack() as stack:
                connection_exit.set(stack)
                stack.enter_context(closing(conn))
                await conn.run(state)
        except (ConnectionError, EOFError, asyncio.IncompleteReadError):
            reason = "connexion interrompue par le client"
        except ssl.SSLError as exc:
            self.stats.tls_failures += 1
            reason = f"échec TLS ({exc})"
        except Exception as exc:  # the server goes on serving the others
            self.stats.errors += 1
            reason = f"erreur interne : {type(exc).__name__}"
            transcript.event("erreur", f"erreur interne du serveur : {type(exc).__name__}: {exc}")
        finally:
            if conn is not None and conn.linger:
                await _linger(reader, writer)
            self.stats.active -= 1
            self._tasks.discard(task)  # type: ignore[arg-type]
            with contextlib.suppress(Exception):
                writer.close()
            transcript.close(reason)

    async def shutdown(self, timeout: float = 2.0) -> None:
        """End the open sessions (pymap says `BYE [UNAVAILABLE]`) when the operator stops."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def _handshake(self, writer: asyncio.StreamWriter, transcript: Transcript) -> bool:
        try:
            await writer.start_tls(self.tls_context(), ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
        except (ssl.SSLError, ConnectionError, TimeoutError, OSError) as exc:
            self.stats.tls_failures += 1
            transcript.event("tls_echec", f"échec de la négociation TLS implicite : {exc}", error=str(exc))
            return False
        record_tls(transcript, writer, "TLS implicite")
        return True


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seconds: float = 1.0) -> None:
    """Half-close, then discard what the client still sends (for a bounded time) before closing."""
    with contextlib.suppress(Exception):
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(seconds):
            while await reader.read(65536):
                pass


async def start_imap_server(handler: ImapServer, host: str, port: int) -> asyncio.AbstractServer:
    """Listen for IMAP clients (plain + STARTTLS, or implicit TLS, as the handler says)."""
    return await asyncio.start_server(handler, host, port, limit=LINE_LIMIT)
