"""The operator's submission server: `RecordingSMTP` plus fault profiles and an implicit-TLS variant.

`RecordingSMTP` (smtp.py) is the protocol; this subclass adds what the operator needs around it:
- the fault profile in force when the connection opens: drop or `421` after N commands (0: at the greeting),
  `535` to every AUTH, a delay before every reply;
- implicit TLS (SMTPS, RFC 8314): aiosmtpd only knows STARTTLS, so a connection that arrives over TLS is marked
  as secured (no STARTTLS offered, AUTH allowed) and its TLS parameters recorded;
- the case of MAIL/RCPT parameter values (aiosmtpd upper-cases the whole parameter string, but ENVID and ORCPT
  are case-sensitive, RFC 3461 §4.2 and §4.4): keywords stay upper-case, values are given back as sent.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from asyncio import sslproto
from collections.abc import Awaitable, Callable
from typing import Any

from aiosmtpd.smtp import SMTP

from segur_mss.operator.faults import ConnectionFaults, FaultController
from segur_mss.operator.recording import Recorder
from segur_mss.operator.smtp import RecordingSMTP, SubmissionHandler, make_submission_factory, tls_parameters

# aiosmtpd 1.4 logs a deprecation warning (through logging, not `warnings`) on every successful AUTH: its own
# attribute, not ours to fix; keep it out of the operator's logs.
logging.getLogger("mail.log").addFilter(lambda record: "login_data is deprecated" not in record.getMessage())

SMTP_421 = "421 4.3.2 Service not available, closing transmission channel"
SMTP_535 = "535 5.7.8 Authentication credentials invalid"


class OperatorSMTP(RecordingSMTP):
    """Submission protocol of the reference operator (faults, implicit TLS)."""

    def __init__(
        self,
        handler: SubmissionHandler,
        *,
        recorder: Recorder,
        faults: FaultController,
        implicit_tls: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(handler, recorder=recorder, **kwargs)
        self.fault_switch = faults
        self.implicit_tls = implicit_tls
        self.faults: ConnectionFaults | None = None
        self._greeted = False
        self._smtp_methods = {name: self._guarded(name, method) for name, method in self._smtp_methods.items()}

    def connection_made(self, transport: Any) -> None:
        first = self.transcript is None
        super().connection_made(transport)
        if not first:
            return
        self.faults = self.fault_switch.for_connection("smtp")
        if self.faults is not None:
            self.faults.opened(self.transcript)
        if self.implicit_tls and self.transcript is not None:
            ssl_protocol = getattr(transport, "_ssl_protocol", None)
            if ssl_protocol is not None:
                self._tls_protocol = ssl_protocol  # aiosmtpd's marker of a secured session
            params = tls_parameters(transport)
            self.transcript.event(
                "tls",
                f"TLS négocié (TLS implicite) : {params.get('version')} {params.get('cipher')}",
                how="TLS implicite",
                **params,
            )

    async def push(self, status: Any) -> None:
        if self.faults is not None:
            if self.faults.delay:
                await asyncio.sleep(self.faults.delay)
            if not self._greeted:
                self._greeted = True
                verdict = self.faults.at_greeting()
                if verdict:
                    await self._fault(verdict, "dès la connexion")
                    return
        self._greeted = True
        await super().push(status)

    async def smtp_MAIL(self, arg: str) -> None:
        before = len(self.envelope.mail_options)
        await super().smtp_MAIL(arg)
        original = self._original_params("FROM:", arg)
        stored = self.envelope.mail_options
        if original and len(stored) - before == len(original):
            stored[before:] = original

    async def smtp_RCPT(self, arg: str) -> None:
        before = len(self.envelope.rcpt_options)
        await super().smtp_RCPT(arg)
        original = self._original_params("TO:", arg)
        stored = self.envelope.rcpt_options
        if original and len(stored) == before + 1 and len(stored[-1]) == len(original):
            stored[-1] = original

    def _original_params(self, keyword: str, arg: str | None) -> list[str]:
        """The parameters of a MAIL/RCPT argument, keywords upper-cased, values as the client wrote them."""
        stripped = self._strip_command_keyword(keyword, arg or "")
        if not stripped:
            return []
        _, params = self._getaddr(stripped)
        result = []
        for token in (params or "").split():
            key, sep, value = token.partition("=")
            result.append(key.upper() + sep + value)
        return result

    def _guarded(self, name: str, method: Callable[[str], Awaitable[None]]) -> Callable[[str], Awaitable[None]]:
        async def run(arg: str) -> None:
            if self.faults is not None:
                verdict = self.faults.command()
                if verdict:
                    await self._fault(verdict, f"après {self.faults.commands - 1} commande(s)")
                    return
                if name == "AUTH" and self.faults.refuse_auth:
                    self.faults.record(self.transcript, "refuse_auth", "panne simulée : authentification refusée")
                    await super(OperatorSMTP, self).push(SMTP_535)
                    return
            await method(arg)

        return run

    async def _fault(self, verdict: str, when: str) -> None:
        assert self.faults is not None
        if verdict == "drop":
            self.faults.record(self.transcript, "drop", f"panne simulée : connexion coupée sans réponse {when}")
            if self.transport is not None:
                self.transport.abort()
            return
        self.faults.record(self.transcript, "bye", f"panne simulée : 421 {when}")
        await super().push(SMTP_421)
        if self.transport is not None:
            self.transport.close()


def make_operator_smtp_factory(
    handler: SubmissionHandler,
    recorder: Recorder,
    tls_context: Any,
    faults: FaultController,
    *,
    implicit_tls: bool = False,
) -> Callable[[], SMTP]:
    """Factory for `loop.create_server`: STARTTLS on the submission port, or implicit TLS (pass `ssl=` to the
    server and `tls_context` None here)."""
    if implicit_tls:
        return make_submission_factory(
            handler, recorder, None, protocol=OperatorSMTP, faults=faults, implicit_tls=True, require_starttls=False
        )
    return make_submission_factory(handler, recorder, tls_context, protocol=OperatorSMTP, faults=faults)


class _ImplicitTlsProtocol(sslproto.SSLProtocol):
    """asyncio's TLS layer (what `create_server(ssl=...)` builds) with the handshake failures recorded."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, app: OperatorSMTP, context: ssl.SSLContext, recorder: Recorder
    ) -> None:
        super().__init__(loop, app, context, None, server_side=True, ssl_handshake_timeout=20.0)
        self._recorder = recorder

    def _on_handshake_complete(self, handshake_exc: BaseException | None) -> None:
        if handshake_exc is not None:
            peer = self._transport.get_extra_info("peername") if self._transport else None
            where = f"{peer[0]}:{peer[1]}" if peer else "?"
            transcript = self._recorder.open_transcript("smtp", where)
            transcript.event(
                "tls_echec",
                f"échec de la négociation TLS implicite : {handshake_exc}",
                error=str(handshake_exc),
                how="TLS implicite",
            )
            transcript.close("échec TLS")
        super()._on_handshake_complete(handshake_exc)


def make_smtps_factory(
    loop: asyncio.AbstractEventLoop,
    handler: SubmissionHandler,
    recorder: Recorder,
    tls_context: Callable[[], ssl.SSLContext],
    faults: FaultController,
) -> Callable[[], asyncio.BaseProtocol]:
    """Factory for a plain `loop.create_server` giving SMTPS: each connection gets the TLS context in force when
    it opens (a server created with `ssl=` would keep one context for ever)."""
    app_factory = make_operator_smtp_factory(handler, recorder, None, faults, implicit_tls=True)

    def factory() -> asyncio.BaseProtocol:
        app = app_factory()
        assert isinstance(app, OperatorSMTP)
        return _ImplicitTlsProtocol(loop, app, tls_context(), recorder)

    return factory
