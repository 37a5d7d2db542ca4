"""Reading the operator's connection transcripts: TLS parameters, command order, authentications.

The connection family's judgements (CONF.01, 03, 05, 06, 07, 10, 11) rest on these readings; the steps only
compare them with what the requirement expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from segur_mss.operator.recording import Capture, Transcript

MAIL_SERVICES = ("imap", "imaps", "smtp", "smtps")
IMAP_SERVICES = ("imap", "imaps")
SMTP_SERVICES = ("smtp", "smtps")
STRONG_VERSIONS = ("TLSv1.2", "TLSv1.3")
#: TLS 1.3 suites (OpenSSL names): the three ANSSI accepts, always allowed alongside the configured TLS 1.2 list.
TLS13_SUITES = ("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256")


@dataclass(frozen=True)
class ConnectionReading:
    """What one connection did, as the operator saw it."""

    transcript: Transcript
    commands: tuple[str, ...]  # the client's command words, in order
    tls_at: int | None  # index in `commands` after which TLS was in force (None: never)
    tls: dict[str, Any] | None
    auths: tuple[dict[str, Any], ...]

    @property
    def id(self) -> str:
        return self.transcript.id

    @property
    def service(self) -> str:
        return self.transcript.service

    def before_tls(self) -> tuple[str, ...]:
        return self.commands if self.tls_at is None else self.commands[: self.tls_at]

    def closed_by_client(self) -> bool:
        return any(c in ("LOGOUT", "QUIT") for c in self.commands)

    def closed_by_server(self) -> bool:
        """The operator ended the session (IMAP BYE / SMTP 421 / cut), by a fault profile or otherwise."""
        faults = [e for e in self.transcript.events("faute") if e.data.get("fault") in ("bye", "drop", "421")]
        return bool(faults or self.transcript.events("fermeture"))


def read_connection(transcript: Transcript) -> ConnectionReading:
    imap = transcript.service in IMAP_SERVICES
    commands: list[str] = []
    tls_at: int | None = 0 if transcript.events("port") and transcript.events("port")[0].data.get("implicit_tls") \
        else None
    tls: dict[str, Any] | None = None
    auths: list[dict[str, Any]] = []
    for entry in transcript.entries:
        if entry.event == "tls":
            tls = dict(entry.data)
            if tls_at is None:
                tls_at = len(commands)
        elif entry.event == "auth":
            auths.append(dict(entry.data))
        elif entry.direction == "C" and entry.text and not entry.text.startswith("["):
            words = entry.text.split()
            word = words[1] if imap and len(words) > 1 else words[0]
            commands.append(word.upper())
    return ConnectionReading(transcript, tuple(commands), tls_at, tls, tuple(auths))


def mail_connections(capture: Capture, services: tuple[str, ...] = MAIL_SERVICES) -> list[ConnectionReading]:
    return [read_connection(t) for t in capture.transcripts if t.service in services]


def authorised_suites(tls12: tuple[str, ...]) -> tuple[str, ...]:
    return (*tls12, *TLS13_SUITES)


def smtp_order_problem(reading: ConnectionReading) -> str | None:
    """EHLO → STARTTLS → EHLO → AUTH before MAIL; nothing but EHLO/HELO/STARTTLS/NOOP/QUIT in clear."""
    clear = reading.before_tls()
    sensitive = [c for c in clear if c not in ("EHLO", "HELO", "STARTTLS", "NOOP", "QUIT", "RSET")]
    if sensitive:
        return f"en clair avant TLS : {', '.join(sensitive)}"
    if "MAIL" in reading.commands or "AUTH" in reading.commands:
        if reading.tls_at is None:
            return "aucune négociation TLS"
        after = reading.commands[reading.tls_at:]
        if "AUTH" in after and "EHLO" not in after[: after.index("AUTH")]:
            return "pas de nouvel EHLO après STARTTLS avant AUTH"
        if "MAIL" in after and ("AUTH" not in after or after.index("AUTH") > after.index("MAIL")):
            return "MAIL FROM avant l'authentification"
    return None


def imap_order_problem(reading: ConnectionReading) -> str | None:
    """STARTTLS (or implicit TLS) before AUTHENTICATE; never LOGIN; nothing sensitive in clear."""
    clear = reading.before_tls()
    sensitive = [c for c in clear if c not in ("CAPABILITY", "STARTTLS", "NOOP", "LOGOUT", "ID")]
    if sensitive:
        return f"en clair avant TLS : {', '.join(sensitive)}"
    if "AUTHENTICATE" in reading.commands and reading.tls_at is None:
        return "AUTHENTICATE sans TLS"
    return None


def describe(reading: ConnectionReading) -> str:
    """The connection's opening, up to its authentication (what CONF.05/06 judge), and its TLS parameters."""
    tls = reading.tls or {}
    opening = list(reading.commands)
    for word in ("AUTH", "AUTHENTICATE"):
        if word in opening:
            opening = opening[: opening.index(word) + 1]
            break
    return f"{reading.id} : {' → '.join(opening)} ; TLS {tls.get('version', 'aucun')} {tls.get('cipher', '')}".rstrip()
