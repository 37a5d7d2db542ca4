"""SMTP submission server of the API LPS (aiosmtpd): STARTTLS, SASL XOAUTH2/OAUTHBEARER against the mock PSC,
`MAIL FROM` bound to the authenticated mailbox, DSN parameters accepted, every submission captured raw.
"""

from __future__ import annotations

import binascii
import collections
import inspect
import itertools
import warnings
from base64 import b64decode, b64encode
from collections.abc import Awaitable, Callable
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from segur_mss.operator.recording import Recorder, Submission, Transcript, redact_auth_lines
from segur_mss.operator.sasl import BearerVerifier, SaslOutcome

# aiosmtpd warns on every successful custom AUTH (its own deprecated attribute): not ours to fix.
warnings.filterwarnings("ignore", message="Session.login_data is deprecated")

AUTH_LINE_LIMIT = 12288  # SMTP replies below stay ASCII (RFC 5321): the French is in the transcript events.
DSN_MAIL_PARAMS = ("RET", "ENVID")
DSN_RCPT_PARAMS = ("NOTIFY", "ORCPT")

#: Called for each accepted submission (delivery into mailboxes, DSN generation...); a hook may be a coroutine
#: function: it is awaited before the client gets its 250, so an accepted message is already in the mailboxes.
DeliveryHook = Callable[[Submission], Awaitable[None] | None]


def smtp_line_filter(transcript: Transcript, direction: str, line: str) -> str | None:
    """Hide SASL secrets and message bodies (stored apart as .eml) from the SMTP transcript."""
    state = transcript.state
    if direction == "S" and line.startswith("354"):
        state["in_data"] = 0
        return line
    if direction == "C" and "in_data" in state:
        if line == ".":
            size = state.pop("in_data")
            return f"[contenu du message : {size} octets, conservé à part] ."
        state["in_data"] += len(line) + 2
        return None
    return redact_auth_lines(transcript, direction, line)


def tls_parameters(transport: Any) -> dict[str, Any]:
    ssl_object = transport.get_extra_info("ssl_object") if transport else None
    if ssl_object is None:
        return {}
    cipher = ssl_object.cipher() or ("", "", 0)
    peer = ssl_object.getpeercert() or {}
    subject = ", ".join("=".join(x) for rdn in peer.get("subject", ()) for x in rdn)
    return {"version": ssl_object.version(), "cipher": cipher[0], "bits": cipher[2], "client_cert": subject or None}


class RecordingSMTP(SMTP):
    """aiosmtpd's protocol core with a transcript per connection."""

    # RFC 4954 §4: an AUTH command line may be up to 12288 octets (a PSC JWT in base64 is ~1 KB).
    line_length_limit = AUTH_LINE_LIMIT + 2

    def __init__(self, handler: SubmissionHandler, *, recorder: Recorder, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        # aiosmtpd keeps these limits in a class-level dict shared by every connection: give each its own.
        self.command_size_limits = collections.defaultdict(lambda: SMTP.command_size_limit)
        self.command_size_limits["AUTH"] = AUTH_LINE_LIMIT
        self.recorder = recorder
        self.transcript: Transcript | None = None

    def connection_made(self, transport: Any) -> None:
        if self.transcript is None:
            host, port = transport.get_extra_info("peername")[:2]
            self.transcript = self.recorder.open_transcript("smtp", f"{host}:{port}", smtp_line_filter)
        super().connection_made(transport)
        if self._original_transport is not None and self.transcript:  # STARTTLS handshake just completed
            params = tls_parameters(transport)
            self.transcript.event("tls", f"TLS négocié : {params.get('version')} {params.get('cipher')}", **params)

    def data_received(self, data: bytes) -> None:
        if self.transcript:
            self.transcript.client_bytes(data)
        super().data_received(data)

    async def push(self, status: Any) -> None:
        if self.transcript:
            text = status.decode("utf-8", "replace") if isinstance(status, bytes) else status
            self.transcript.server_line(text)
        await super().push(status)

    async def smtp_STARTTLS(self, arg: str) -> None:
        try:
            await super().smtp_STARTTLS(arg)
        except Exception as exc:
            if self.transcript:
                self.transcript.event("tls_echec", f"échec de la négociation TLS : {exc.__cause__ or exc}")
            raise

    def _getparams(self, params: Any) -> Any:
        # aiosmtpd refuses parameters it does not know: the DSN ones (RFC 3461) are kept in the envelope's
        # raw options and removed from its check.
        result = super()._getparams(params)
        if result is not None:
            for key in (*DSN_MAIL_PARAMS, *DSN_RCPT_PARAMS):
                result.pop(key, None)
        return result

    def connection_lost(self, error: Exception | None) -> None:
        try:
            super().connection_lost(error)
        finally:
            if self.transcript:
                self.transcript.close("connexion fermée" + (f" ({error})" if error else ""))


class SubmissionHandler:
    """Handler hooks of the submission server."""

    def __init__(self, verifier: BearerVerifier, recorder: Recorder, hostname: str) -> None:
        self.verifier = verifier
        self.recorder = recorder
        self.hostname = hostname
        self.delivery_hooks: list[DeliveryHook] = []
        #: SASL EXTERNAL for APP mailboxes: (client certificate DER, authzid) -> the operator's verdict
        self.certificate_check: Callable[[bytes | None, str], Any] | None = None
        self._ids = itertools.count(1)

    # -- SASL -------------------------------------------------------------------------------------------
    async def auth_XOAUTH2(self, server: RecordingSMTP, args: list[str]) -> AuthResult:
        return await self._bearer(server, "XOAUTH2", args)

    async def auth_OAUTHBEARER(self, server: RecordingSMTP, args: list[str]) -> AuthResult:
        return await self._bearer(server, "OAUTHBEARER", args)

    async def _bearer(self, server: RecordingSMTP, mechanism: str, args: list[str]) -> AuthResult:
        if len(args) == 2:
            try:
                blob = b64decode(args[1], validate=True)
            except binascii.Error:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        else:
            response = await server.challenge_auth("", encode_to_b64=False)
            if not isinstance(response, bytes):
                return AuthResult(success=False, handled=True)
            blob = response
        outcome = self.verifier.verify(mechanism, blob)
        self._record_auth(server, outcome)
        if outcome.success:
            return AuthResult(success=True, auth_data=outcome)
        # Final error challenge, the client answers with an empty line (XOAUTH2) or ^A (OAUTHBEARER).
        await server.push("334 " + b64encode(outcome.error_challenge()).decode())
        await server._reader.readline()
        if server.transcript:
            server.transcript.line("C", "[réponse à l'erreur SASL]")
        return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")

    async def auth_EXTERNAL(self, server: RecordingSMTP, args: list[str]) -> AuthResult:
        """APP mailboxes: the TLS client certificate (IGC-Santé ORG) authenticates; optional authzid = mailbox."""
        if self.certificate_check is None:
            return AuthResult(success=False, handled=False, message="504 5.5.4 EXTERNAL not available")
        if len(args) == 2:
            response: bytes | Any = b"" if args[1] == "=" else args[1].encode()
        else:
            response = await server.challenge_auth("", encode_to_b64=False)
            if not isinstance(response, bytes):
                return AuthResult(success=False, handled=True)
        try:
            authzid = b64decode(response, validate=True).decode("utf-8") if response else ""
        except (binascii.Error, UnicodeDecodeError):
            await server.push("501 5.5.2 Can't decode base64")
            return AuthResult(success=False, handled=True)
        ssl_object = server.transport.get_extra_info("ssl_object") if server.transport else None
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        verdict = self.certificate_check(der, authzid)
        outcome = SaslOutcome(verdict.success, "EXTERNAL", verdict.address, verdict.mailbox,
                              reason=verdict.reason, message=verdict.message)
        if server.transcript:
            server.transcript.event(
                "auth", f"authentification EXTERNAL {'acceptée' if outcome.success else 'refusée'} pour "
                        f"{verdict.address or '?'}" + ("" if outcome.success else f" : {verdict.message}"),
                mechanism="EXTERNAL", mailbox=verdict.address, success=outcome.success, reason=verdict.reason,
                client_cert=verdict.subject,
            )
        if outcome.success:
            return AuthResult(success=True, auth_data=outcome)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")

    @staticmethod
    def _record_auth(server: RecordingSMTP, outcome: SaslOutcome) -> None:
        if not server.transcript:
            return
        if outcome.success and outcome.grant:
            server.transcript.event(
                "auth", f"authentification {outcome.mechanism} acceptée pour {outcome.user}",
                mechanism=outcome.mechanism, mailbox=outcome.user, success=True, token=outcome.grant.summary(),
            )
        else:
            server.transcript.event(
                "auth", f"authentification {outcome.mechanism} refusée : {outcome.message}",
                mechanism=outcome.mechanism, mailbox=outcome.user, success=False, reason=outcome.reason,
            )

    # -- envelope ---------------------------------------------------------------------------------------
    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        extra = ["250-DSN", "250-ENHANCEDSTATUSCODES"]
        return [*responses[:-1], *extra, responses[-1]]

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        outcome = session.auth_data
        if not isinstance(outcome, SaslOutcome) or not outcome.success:
            return "530 5.7.0 Authentication required"
        if address.lower() != (outcome.user or "").lower():
            return "553 5.7.1 MAIL FROM does not match the authenticated mailbox"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        population = self.verifier.population
        if population.is_patient_address(address):
            population.patient_mailbox(address.split("@", 1)[0])
        elif address.lower().endswith("@" + population.domain) and population.mailbox(address) is None:
            return "550 5.1.1 Unknown mailbox"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.append(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(server, RecordingSMTP)
        outcome = session.auth_data
        raw = envelope.original_content or b""
        submission = Submission(
            id=f"msg-{next(self._ids):04d}",
            transcript_id=server.transcript.id if server.transcript else "",
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            mail_options=list(envelope.mail_options),
            rcpt_options=[list(o) for o in envelope.rcpt_options],
            raw=raw,
            mailbox=outcome.user if isinstance(outcome, SaslOutcome) else None,
            mechanism=outcome.mechanism if isinstance(outcome, SaslOutcome) else None,
            tls=tls_parameters(server.transport),
            received_at=self.recorder.stamp(),
        )
        for hook in self.delivery_hooks:
            result = hook(submission)
            if inspect.isawaitable(result):
                await result
        self.recorder.record_submission(submission)
        if server.transcript:
            server.transcript.event(
                "message", f"message {submission.id} accepté ({len(raw)} octets)", message=submission.id
            )
        return "250 2.0.0 Message accepted"


def make_submission_factory(
    handler: SubmissionHandler,
    recorder: Recorder,
    tls_context: Any,
    *,
    protocol: Callable[..., RecordingSMTP] = RecordingSMTP,
    **options: Any,
) -> Callable[[], SMTP]:
    """Protocol factory for `loop.create_server` (`protocol` and `options` adapt it, e.g. for implicit TLS)."""
    settings: dict[str, Any] = {
        "hostname": handler.hostname,
        "ident": "segur-mss operateur de reference",
        "tls_context": tls_context,
        "require_starttls": True,
        "auth_required": True,
        "auth_require_tls": True,
        "auth_exclude_mechanism": ["LOGIN", "PLAIN"],
        "data_size_limit": 64 * 1024 * 1024,
        "timeout": 60,
        **options,
    }

    def factory() -> SMTP:
        return protocol(handler, recorder=recorder, **settings)

    return factory
