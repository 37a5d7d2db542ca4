"""One IMAP session of the candidate (imapclient): STARTTLS, the server checked, then SASL, then the mailbox.

The order is the candidate's (see `ReferenceCandidate.secure_then_authenticate`): this class only offers the
steps. XOAUTH2 and OAUTHBEARER (RFC 7628) carry the PSC access token; EXTERNAL uses the TLS client certificate
of an applicative mailbox. Every failure becomes a `MailSessionError` with a French message.
"""

from __future__ import annotations

import contextlib
import email.policy
import imaplib
import socket
import ssl
from email.parser import BytesHeaderParser
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from segur_mss.candidates.mail_transport import (
    AuthenticationRefused,
    MailSessionError,
    PeerCheck,
    ServerAddress,
    ServerUnreachable,
    SessionDropped,
)
from segur_mss.candidates.tls_policy import TlsRefused, describe_tls_error

SEEN = b"\\Seen"
DELETED = b"\\Deleted"


def xoauth2_response(address: str, token: str) -> bytes:
    return f"user={address}\x01auth=Bearer {token}\x01\x01".encode()


def oauthbearer_response(address: str, token: str, host: str, port: int) -> bytes:
    authzid = address.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={authzid},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01".encode()


class _Sasl:
    """A SASL client exchange for imaplib: the initial response, then an empty answer to an error challenge."""

    def __init__(self, initial: bytes) -> None:
        self.initial = initial
        self.steps = 0

    def __call__(self, _challenge: bytes) -> bytes:
        self.steps += 1
        return self.initial if self.steps == 1 else b""


class ImapSession:
    """A connection to the operator's IMAP server, opened in plain text and upgraded by STARTTLS."""

    protocol = "imap"

    def __init__(
        self, server: ServerAddress, tls_context: ssl.SSLContext, peer_check: PeerCheck, *, timeout: float = 15.0
    ) -> None:
        self.server = server
        self.tls_context = tls_context
        self.peer_check = peer_check
        self.timeout = timeout
        self.client: IMAPClient | None = None
        self.tls: dict[str, Any] = {}
        self.mechanism = ""
        self.selected = False

    # -- connection --------------------------------------------------------------------------------------
    def connect(self) -> None:
        implicit = self.server.tls == "implicit"
        try:
            self.client = IMAPClient(
                self.server.host, self.server.port, ssl=implicit, ssl_context=self.tls_context if implicit else None,
                timeout=self.timeout,
            )
        except ssl.SSLError as exc:
            raise describe_tls_error(exc) from exc
        except (OSError, imaplib.IMAP4.error) as exc:
            where = f"{self.server.host}:{self.server.port}"
            raise ServerUnreachable(f"serveur IMAP injoignable ({where}) : {exc}") from exc
        # imaplib writes a SASL response and its CRLF separately: without TCP_NODELAY, Nagle holds the CRLF
        # until the server's delayed ACK (~40 ms per authentication)
        with contextlib.suppress(OSError):
            self.client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if implicit:
            self.tls = self.peer_check(self._socket(), self.server.host)

    @property
    def tls_established(self) -> bool:
        return bool(self.tls)

    def starttls(self) -> dict[str, Any]:
        """STARTTLS, then the server's certificate checked (policy, revocation) before anything else is sent."""
        if self.tls:
            return self.tls
        client = self._client()
        try:
            client.starttls(self.tls_context)
        except ssl.SSLError as exc:
            self._abandon()
            raise describe_tls_error(exc) from exc
        except imaplib.IMAP4.abort as exc:  # BYE or connection lost around the upgrade
            self._abandon()
            raise SessionDropped(f"session IMAP fermée pendant STARTTLS : {exc}") from exc
        except (IMAPClientError, imaplib.IMAP4.error, OSError) as exc:
            self._abandon()
            raise MailSessionError(f"STARTTLS refusé par le serveur IMAP : {exc}", "starttls") from exc
        try:
            self.tls = self.peer_check(self._socket(), self.server.host)
        except TlsRefused:
            self._abandon()
            raise
        return self.tls

    # -- authentication ----------------------------------------------------------------------------------
    def authenticate_bearer(self, mechanism: str, address: str, token: str) -> str:
        if mechanism == "OAUTHBEARER":
            initial = oauthbearer_response(address, token, self.server.host, self.server.port)
        else:
            initial = xoauth2_response(address, token)
        return self._sasl(mechanism, initial)

    def authenticate_external(self, address: str) -> str:
        return self._sasl("EXTERNAL", address.encode())

    def login_password(self, address: str, password: str) -> str:
        """LOGIN (only a faulty candidate does this)."""
        try:
            return self._text(self._client().login(address, password))
        except (LoginError, IMAPClientError, imaplib.IMAP4.error) as exc:
            raise AuthenticationRefused(f"LOGIN refusé : {exc}") from exc

    def _sasl(self, mechanism: str, initial: bytes) -> str:
        client = self._client()
        try:
            answer = client.sasl_login(mechanism, _Sasl(initial))
        except LoginError as exc:
            raise AuthenticationRefused(f"authentification {mechanism} refusée par le serveur IMAP : {exc}") from exc
        except imaplib.IMAP4.abort as exc:
            raise SessionDropped(f"session IMAP interrompue pendant l'authentification : {exc}") from exc
        except (OSError, IMAPClientError, imaplib.IMAP4.error) as exc:
            raise AuthenticationRefused(f"authentification {mechanism} impossible : {exc}") from exc
        self.mechanism = mechanism
        return self._text(answer)

    # -- the mailbox -------------------------------------------------------------------------------------
    def select_inbox(self) -> str:
        info = self._do(lambda c: c.select_folder("INBOX"))
        self.selected = True
        return f"OK INBOX ({info.get(b'EXISTS', 0)} messages)"

    def unseen(self) -> list[int]:
        """UIDs of the unseen messages (a NOOP first: the server reports what arrived since the last command)."""
        self._do(lambda c: c.noop())
        return list(self._do(lambda c: c.search(["UNSEEN"])))

    def fetch(self, uid: int) -> bytes:
        data = self._do(lambda c: c.fetch([uid], ["BODY.PEEK[]"]))
        return bytes(data.get(uid, {}).get(b"BODY[]", b""))

    def mark_seen(self, uid: int) -> None:
        self._do(lambda c: c.add_flags([uid], [SEEN]))

    def find(self, message_id: str) -> int | None:
        uids = self._do(lambda c: c.search(["HEADER", "Message-ID", message_id]))
        if uids:
            return int(uids[0])
        for uid in self._do(lambda c: c.search(["ALL"])):  # servers that do not search headers
            head = self._do(lambda c, u=uid: c.fetch([u], ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]))
            raw = next(iter(head.get(uid, {}).values()), b"") if head.get(uid) else b""
            parsed = BytesHeaderParser(policy=email.policy.default).parsebytes(bytes(raw or b""))
            if str(parsed.get("Message-ID", "")).strip() == message_id.strip():
                return int(uid)
        return None

    def delete(self, uid: int) -> str:
        client = self._client()
        self._do(lambda c: c.add_flags([uid], [DELETED]))
        if client.has_capability("UIDPLUS"):
            self._do(lambda c: c.uid_expunge([uid]))
            return f"OK UID EXPUNGE {uid}"
        self._do(lambda c: c.expunge())
        return "OK EXPUNGE"

    def noop(self) -> None:
        self._do(lambda c: c.noop())

    def logout(self) -> str:
        """LOGOUT, ignoring a connection already gone."""
        client, self.client = self.client, None
        if client is None:
            return "déjà fermée"
        try:
            return self._text(client.logout())
        except (IMAPClientError, imaplib.IMAP4.error, OSError):
            self._shutdown(client)
            return "connexion déjà fermée"

    # -- internals ---------------------------------------------------------------------------------------
    def _do(self, operation: Any) -> Any:
        client = self._client()
        try:
            return operation(client)
        except imaplib.IMAP4.abort as exc:
            self._abandon()
            raise SessionDropped(f"session IMAP fermée par le serveur : {exc}") from exc
        except OSError as exc:
            self._abandon()
            raise SessionDropped(f"connexion IMAP coupée : {exc}") from exc
        except (IMAPClientError, imaplib.IMAP4.error) as exc:
            raise MailSessionError(f"commande IMAP refusée : {exc}", "commande_refusee") from exc

    def _client(self) -> IMAPClient:
        if self.client is None:
            raise SessionDropped("aucune session IMAP ouverte")
        return self.client

    def _socket(self) -> ssl.SSLSocket:
        sock = self._client().socket()
        assert isinstance(sock, ssl.SSLSocket)
        return sock

    def _abandon(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            self._shutdown(client)

    @staticmethod
    def _shutdown(client: IMAPClient) -> None:
        try:
            client.shutdown()
        except (OSError, IMAPClientError, imaplib.IMAP4.error):
            return

    @staticmethod
    def _text(value: Any) -> str:
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        if isinstance(value, list | tuple) and value:
            return ImapSession._text(value[0])
        return str(value)
