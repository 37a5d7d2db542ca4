"""One SMTP submission session of the candidate (aiosmtplib on the candidate's private loop).

EHLO, STARTTLS, the server checked (policy, revocation), EHLO again, then SASL (XOAUTH2 / OAUTHBEARER with the PSC
access token, EXTERNAL with the APP mailbox's certificate), then the message, then QUIT. The order is the
candidate's (`ReferenceCandidate.secure_then_authenticate`): this class only offers the steps.
"""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass
from typing import Any

import aiosmtplib
from aiosmtplib import SMTPResponse

from segur_mss.candidates.imap_session import oauthbearer_response
from segur_mss.candidates.mail_transport import (
    AsyncRunner,
    AuthenticationRefused,
    MailSessionError,
    PeerCheck,
    ServerAddress,
    ServerUnreachable,
    SessionDropped,
)
from segur_mss.candidates.tls_policy import TlsRefused, describe_tls_error

LOCAL_HOSTNAME = "lps-reference.local"


@dataclass(frozen=True)
class DsnParameters:
    """The delivery status notification a sender asks of the operator (RFC 3461).

    `notify` goes on each RCPT TO (`NOTIFY=SUCCESS,FAILURE`), `ret` and `envid` on MAIL FROM (`RET=HDRS`,
    `ENVID=<xtext>`: the sender's own reference, given back in the report's Original-Envelope-Id).
    """

    notify: tuple[str, ...] = ("SUCCESS", "FAILURE")
    ret: str = "HDRS"
    envid: str = ""

    def mail_options(self) -> list[str]:
        options = [f"RET={self.ret}"] if self.ret else []
        if self.envid:
            options.append(f"ENVID={xtext(self.envid)}")
        return options

    def rcpt_options(self) -> list[str]:
        return [f"NOTIFY={','.join(self.notify)}"] if self.notify else []


def xtext(value: str) -> str:
    """RFC 3461 §4 xtext: `+`, `=`, controls and non-ASCII as `+XX` (UTF-8 bytes)."""
    return "".join(chr(b) if 33 <= b <= 126 and b not in (43, 61) else f"+{b:02X}" for b in value.encode("utf-8"))


class SmtpSession:
    """A submission connection (synchronous facade; the I/O runs on `runner`'s loop)."""

    protocol = "smtp"

    def __init__(
        self,
        server: ServerAddress,
        tls_context: ssl.SSLContext,
        peer_check: PeerCheck,
        runner: AsyncRunner,
        *,
        timeout: float = 15.0,
    ) -> None:
        self.server = server
        self.tls_context = tls_context
        self.peer_check = peer_check
        self.runner = runner
        self.timeout = timeout
        self.tls: dict[str, Any] = {}
        self.mechanism = ""
        self.client = aiosmtplib.SMTP(
            hostname=server.host, port=server.port, use_tls=server.tls == "implicit", start_tls=False,
            tls_context=tls_context, timeout=timeout, local_hostname=LOCAL_HOSTNAME,
        )

    # -- connection --------------------------------------------------------------------------------------
    def connect(self) -> None:
        try:
            self._run(self.client.connect())
            self._run(self.client.ehlo())
        except (TlsRefused, SessionDropped):
            raise
        except MailSessionError as exc:
            raise ServerUnreachable(f"serveur SMTP injoignable ({self.server.host}:{self.server.port}) : "
                                    f"{exc.message}") from exc
        if self.server.tls == "implicit":
            self.tls = self._check_peer()

    @property
    def tls_established(self) -> bool:
        return bool(self.tls)

    def starttls(self) -> dict[str, Any]:
        if self.tls:
            return self.tls
        try:
            self._run(self.client.starttls(tls_context=self.tls_context, server_hostname=self.server.host))
        except TlsRefused:
            raise
        except MailSessionError as exc:  # the upgrade failed: a TLS refusal, never a session to reopen
            self.abort()
            cause = _ssl_cause(exc)
            if cause is not None:
                raise describe_tls_error(cause) from exc
            raise TlsRefused("tls", f"négociation TLS (STARTTLS) interrompue : {exc.message}") from exc
        self.tls = self._check_peer()
        self._run(self.client.ehlo())
        return self.tls

    def _check_peer(self) -> dict[str, Any]:
        ssl_object = self.client.get_transport_info("ssl_object")
        try:
            return self.peer_check(ssl_object, self.server.host)
        except TlsRefused:
            self.abort()
            raise

    # -- authentication ----------------------------------------------------------------------------------
    def authenticate_bearer(self, mechanism: str, address: str, token: str) -> str:
        if mechanism == "OAUTHBEARER":
            blob = oauthbearer_response(address, token, self.server.host, self.server.port)
            response = self._auth("OAUTHBEARER", blob, error_reply=b"\x01")
        else:
            response = self._run(self.client.auth_xoauth2(address, token), auth=mechanism)
        self.mechanism = mechanism
        return f"{response.code} {response.message}"

    def authenticate_external(self, address: str) -> str:
        offered = self.client.esmtp_extensions.get("auth", "").upper().split()
        if "EXTERNAL" not in offered:
            raise AuthenticationRefused("le serveur SMTP ne propose pas SASL EXTERNAL (certificat de la BAL "
                                        "applicative)", "mecanisme_absent")
        response = self._auth("EXTERNAL", address.encode(), error_reply=b"")
        self.mechanism = "EXTERNAL"
        return f"{response.code} {response.message}"

    def login_password(self, address: str, password: str) -> str:
        """AUTH PLAIN (only a faulty candidate does this)."""
        response = self._run(self.client.auth_plain(address, password), auth="PLAIN")
        return f"{response.code} {response.message}"

    def _auth(self, mechanism: str, blob: bytes, *, error_reply: bytes) -> SMTPResponse:
        encoded = base64.b64encode(blob) if blob else b"="

        async def exchange() -> SMTPResponse:
            response = await self.client.execute_command(b"AUTH", mechanism.encode(), encoded)
            if response.code == 334:  # error challenge (RFC 7628 §3.2.3): acknowledge, then the final reply
                response = await self.client.execute_command(base64.b64encode(error_reply) if error_reply else b"")
            if response.code != 235:
                raise aiosmtplib.SMTPAuthenticationError(response.code, response.message)
            return response

        return self._run(exchange(), auth=mechanism)

    # -- the message -------------------------------------------------------------------------------------
    def send(self, raw: bytes, sender: str, recipients: list[str], *, dsn: DsnParameters | None = None) -> str:
        """MAIL FROM, RCPT TO (with the DSN parameters when asked), DATA; returns the server's final reply."""
        options: dict[str, Any] = {}
        if dsn is not None:
            options = {"mail_options": dsn.mail_options(), "rcpt_options": dsn.rcpt_options()}
        errors, message = self._run(self.client.sendmail(sender, recipients, raw, **options))
        if errors:
            refused = ", ".join(f"{r} ({e.code})" for r, e in errors.items())
            return f"250 {message} (refusés : {refused})"
        return f"250 {message}"

    def quit(self) -> str:
        if not self.client.is_connected:
            return "déjà fermée"
        try:
            response = self.runner.run(self.client.quit(), self.timeout + 5)
            return f"{response.code} {response.message}"
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            self.abort()
            return "connexion déjà fermée"

    def abort(self) -> None:
        try:
            self.client.close()
        except Exception:  # the transport may already be gone
            return

    # -- internals ---------------------------------------------------------------------------------------
    def _run(self, coro: Any, *, auth: str = "") -> Any:
        try:
            return self.runner.run(coro, self.timeout + 5)
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise AuthenticationRefused(f"authentification {auth} refusée par le serveur SMTP : {exc.code} "
                                        f"{exc.message}") from exc
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPNotSupported) as exc:
            raise MailSessionError(f"envoi refusé par le serveur SMTP : {exc}", "envoi_refuse") from exc
        except aiosmtplib.SMTPServerDisconnected as exc:
            raise SessionDropped(f"session SMTP fermée par le serveur : {exc}") from exc
        except aiosmtplib.SMTPConnectError as exc:
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, ssl.SSLError):
                raise describe_tls_error(cause) from exc
            raise MailSessionError(f"connexion SMTP impossible : {exc}", "connexion_impossible") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421:
                self.abort()
                raise SessionDropped(f"session SMTP fermée par le serveur : {exc.code} {exc.message}") from exc
            if auth:
                raise AuthenticationRefused(f"authentification {auth} refusée : {exc.code} {exc.message}") from exc
            raise MailSessionError(f"commande SMTP refusée : {exc.code} {exc.message}", "commande_refusee") from exc
        except ssl.SSLError as exc:
            self.abort()
            raise describe_tls_error(exc) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            self.abort()
            raise SessionDropped(f"connexion SMTP coupée : {exc}") from exc


def _ssl_cause(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind an SMTP failure, if any."""
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
