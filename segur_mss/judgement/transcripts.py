"""Reading the operator's connection transcripts: TLS parameters, command order, authentications, sessions.

The connection family's judgements (SC.MSS/CONF.01, 03, 05, 06, 07, 10, 11, 22, 27) rest on these readings; each
function returns what was observed (French, for the report) and whether it holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from segur_mss.operator.recording import Capture, Transcript

MAIL_SERVICES = ("imap", "imaps", "smtp", "smtps")
IMAP_SERVICES = ("imap", "imaps")
SMTP_SERVICES = ("smtp", "smtps")
STRONG_VERSIONS = ("TLSv1.2", "TLSv1.3")
#: What a client may say before TLS (nothing that authenticates or carries a message).
SMTP_CLEAR_COMMANDS = ("EHLO", "HELO", "STARTTLS", "NOOP", "QUIT", "RSET")
IMAP_CLEAR_COMMANDS = ("CAPABILITY", "STARTTLS", "NOOP", "LOGOUT", "ID")
#: Operator fault events that end a session from the server side (IMAP BYE, SMTP 421, connection cut).
SERVER_CLOSE_FAULTS = ("bye", "drop", "421")


@dataclass(frozen=True)
class Verdict:
    """What a judgement observed, and whether it holds."""

    passed: bool
    observed: str


@dataclass(frozen=True)
class ConnectionReading:
    """What one connection did, as the operator saw it."""

    transcript: Transcript
    commands: tuple[str, ...]  # the client's command words, in order
    tls_at: int | None  # index in `commands` from which TLS was in force (None: never)
    tls: dict[str, Any] | None
    auths: tuple[dict[str, Any], ...]

    @property
    def id(self) -> str:
        return self.transcript.id

    @property
    def service(self) -> str:
        return self.transcript.service

    @property
    def accepted(self) -> tuple[dict[str, Any], ...]:
        return tuple(a for a in self.auths if a.get("success"))

    def before_tls(self) -> tuple[str, ...]:
        return self.commands if self.tls_at is None else self.commands[: self.tls_at]

    def closed_by_client(self) -> bool:
        return any(c in ("LOGOUT", "QUIT") for c in self.commands)

    def server_close(self) -> Any | None:
        """The entry where the operator ended the session (fault profile BYE / 421 / cut, or its own BYE)."""
        for entry in self.transcript.entries:
            if entry.event == "faute" and entry.data.get("fault") in SERVER_CLOSE_FAULTS:
                return entry
            if entry.event == "fermeture":
                return entry
        return None


def read_connection(transcript: Transcript) -> ConnectionReading:
    imap = transcript.service in IMAP_SERVICES
    commands: list[str] = []
    ports = transcript.events("port")
    tls_at: int | None = 0 if ports and ports[0].data.get("implicit_tls") else None
    tls: dict[str, Any] | None = None
    auths: list[dict[str, Any]] = []
    for entry in list(transcript.entries):
        if entry.event == "tls":
            tls = dict(entry.data)
            if tls_at is None:
                tls_at = len(commands)
        elif entry.event == "auth":
            auths.append({**entry.data, "t": entry.t})
        elif entry.direction == "C" and entry.text and not entry.text.startswith("["):
            words = entry.text.split()
            word = words[1] if imap and len(words) > 1 else words[0]
            commands.append(word.upper())
    return ConnectionReading(transcript, tuple(commands), tls_at, tls, tuple(auths))


def mail_connections(capture: Capture, services: tuple[str, ...] = MAIL_SERVICES) -> list[ConnectionReading]:
    return [read_connection(t) for t in list(capture.transcripts) if t.service in services]


def instant(stamp: str) -> datetime:
    """A transcript timestamp (`2026-11-23T14:04:37.735Z`, operator clock) as a datetime."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


# -- TLS (CONF.01, CONF.03) -------------------------------------------------------------------------------------
def tls_versions(readings: list[ConnectionReading]) -> Verdict:
    """TLS 1.2 or 1.3 on every connection, and at least one connection."""
    seen = [f"{r.id} : {(r.tls or {}).get('version') or 'sans TLS'}" for r in readings]
    ok = bool(readings) and all((r.tls or {}).get("version") in STRONG_VERSIONS for r in readings)
    return Verdict(ok, "; ".join(seen) or "aucune connexion")


def tls_suites(readings: list[ConnectionReading], allowed: Iterable[str]) -> Verdict:
    """An authorised suite on every connection, and at least one connection."""
    allowed = set(allowed)
    seen = []
    for r in readings:
        cipher = (r.tls or {}).get("cipher") or ""
        flag = "" if cipher in allowed else " (non autorisée)"
        seen.append(f"{r.id} : {(r.tls or {}).get('version') or 'sans TLS'} {cipher or '—'}{flag}")
    ok = bool(readings) and all((r.tls or {}).get("cipher") in allowed for r in readings)
    return Verdict(ok, "; ".join(seen) or "aucune connexion")


def refused_to_proceed(readings: list[ConnectionReading], submissions: int) -> Verdict:
    """The candidate tried, and none of its connections reached an accepted authentication or a message."""
    accepted = [f"{r.id} ({a.get('mechanism')})" for r in readings for a in r.accepted]
    failures = sum(len(r.transcript.events("tls_echec")) for r in readings)
    versions = sorted({str((r.tls or {}).get("version")) for r in readings if r.tls})
    observed = (f"{len(readings)} connexion(s) ; TLS établi : {', '.join(versions) or 'jamais'} ; échecs TLS vus "
                f"par le serveur : {failures} ; authentifications acceptées : {', '.join(accepted) or 'aucune'} ; "
                f"messages soumis : {submissions}")
    return Verdict(bool(readings) and not accepted and not submissions, observed)


# -- command order (CONF.05, CONF.06) ---------------------------------------------------------------------------
def smtp_order_problem(reading: ConnectionReading) -> str | None:
    """EHLO → STARTTLS → EHLO → AUTH before MAIL; nothing but EHLO/HELO/STARTTLS/NOOP/QUIT/RSET in clear."""
    sensitive = [c for c in reading.before_tls() if c not in SMTP_CLEAR_COMMANDS]
    if sensitive:
        return f"en clair avant TLS : {', '.join(sensitive)}"
    if "MAIL" in reading.commands or "AUTH" in reading.commands:
        if reading.tls_at is None:
            return "aucune négociation TLS"
        after = reading.commands[reading.tls_at:]
        if "AUTH" in after and not {"EHLO", "HELO"} & set(after[: after.index("AUTH")]):
            return "pas de nouvel EHLO après STARTTLS avant AUTH"
        if "MAIL" in after and ("AUTH" not in after or after.index("AUTH") > after.index("MAIL")):
            return "MAIL FROM avant l'authentification"
    return None


def imap_order_problem(reading: ConnectionReading) -> str | None:
    """STARTTLS (or implicit TLS) before AUTHENTICATE; nothing sensitive in clear."""
    sensitive = [c for c in reading.before_tls() if c not in IMAP_CLEAR_COMMANDS]
    if sensitive:
        return f"en clair avant TLS : {', '.join(sensitive)}"
    if ("AUTHENTICATE" in reading.commands or "LOGIN" in reading.commands) and reading.tls_at is None:
        return "authentification sans TLS"
    return None


def command_order(readings: list[ConnectionReading], problem_of: Callable[[ConnectionReading], str | None], *,
                  only_clear: bool = False) -> Verdict:
    """Every connection free of order problems (`only_clear`: only what was sent before TLS counts)."""
    problems = []
    for r in readings:
        problem = problem_of(r)
        if problem and (not only_clear or problem.startswith("en clair")):
            problems.append(f"{r.id} : {problem}")
    observed = "; ".join(problems) or "; ".join(describe(r) for r in readings) or "aucune connexion"
    return Verdict(bool(readings) and not problems, observed)


def password_logins(readings: list[ConnectionReading]) -> Verdict:
    """IMAP LOGIN or SASL PLAIN/LOGIN (a password, or a token passed as one): never."""
    uses = [f"{r.id} : LOGIN" for r in readings if "LOGIN" in r.commands]
    uses += [f"{r.id} : AUTH {a.get('mechanism')}" for r in readings for a in r.auths
             if str(a.get("mechanism", "")).upper() in ("PLAIN", "LOGIN")]
    return Verdict(bool(readings) and not uses, "; ".join(uses) or f"jamais ({len(readings)} connexion(s))")


def describe(reading: ConnectionReading) -> str:
    """The connection's opening, up to its authentication, and its TLS parameters."""
    tls = reading.tls or {}
    opening = list(reading.commands)
    for word in ("AUTH", "AUTHENTICATE", "LOGIN"):
        if word in opening:
            opening = opening[: opening.index(word) + 1]
            break
    return f"{reading.id} : {' → '.join(opening)} ; TLS {tls.get('version', 'aucun')} {tls.get('cipher', '')}".rstrip()


# -- authentication (CONF.07, CONF.27) --------------------------------------------------------------------------
def bearer_after_tls(readings: list[ConnectionReading], mechanism: str = "XOAUTH2") -> Verdict:
    """Every authentication uses `mechanism`, after TLS, and at least one authentication."""
    with_auth = [r for r in readings if r.auths]
    seen = [f"{r.id} : {a.get('mechanism')} ({'après TLS' if r.tls else 'sans TLS'}, "
            f"{'acceptée' if a.get('success') else 'refusée'})" for r in with_auth for a in r.auths]
    ok = bool(with_auth) and all(a.get("mechanism") == mechanism and r.tls for r in with_auth for a in r.auths)
    return Verdict(ok, "; ".join(seen) or "aucune authentification")


def used_oauthbearer(readings: list[ConnectionReading]) -> bool:
    return any(a.get("mechanism") == "OAUTHBEARER" for r in readings for a in r.auths)


def tokens_from_psc(readings: list[ConnectionReading], issued_digests: set[str],
                    granted: Callable[[str], bool]) -> Verdict:
    """Every token presented was issued by PSC to a professional allowed on the mailbox, and was accepted."""
    seen, ok = [], True
    for r in readings:
        for auth in r.auths:
            token = auth.get("token") or {}
            from_psc = token.get("jti_sha256") in issued_digests
            owner = granted(str(token.get("sub", "")))
            ok &= bool(auth.get("success")) and from_psc and owner
            seen.append(f"{r.id} : {auth.get('mechanism')}, professionnel {token.get('sub', '?')} "
                        f"({'habilité' if owner else 'non habilité'} sur la BAL), jeton "
                        f"{'émis par Pro Santé Connect' if from_psc else 'inconnu de Pro Santé Connect'}, "
                        f"{'accepté' if auth.get('success') else 'refusé'}")
    return Verdict(bool(seen) and ok, "; ".join(seen) or "aucune authentification")


def certificate_authentications(readings: list[ConnectionReading]) -> Verdict:
    """SASL EXTERNAL accepted with a TLS client certificate, on every authentication, at least one."""
    with_auth = [r for r in readings if r.auths]
    seen = []
    for r in with_auth:
        for a in r.auths:
            subject = a.get("certificate") or a.get("client_cert") or (r.tls or {}).get("client_cert") or "aucun"
            issuer = f", émis par {a['issuer']}" if a.get("issuer") else ""
            seen.append(f"{r.id} : {a.get('mechanism')} {'accepté' if a.get('success') else 'refusé'} ; "
                        f"certificat client {subject}{issuer}")
    ok = bool(with_auth) and all(
        a.get("mechanism") == "EXTERNAL" and a.get("success") and (r.tls or {}).get("client_cert")
        for r in with_auth for a in r.auths)
    return Verdict(ok, "; ".join(seen) or "aucune authentification")


# -- sessions (CONF.10, CONF.11) --------------------------------------------------------------------------------
def open_sessions(readings: list[ConnectionReading]) -> Verdict:
    """Every authenticated session ended (LOGOUT, or the connection closed), at least one such session."""
    authenticated = [r for r in readings if r.accepted]
    ended, left_open = [], []
    for r in authenticated:
        if r.closed_by_client():
            ended.append(f"{r.id} : LOGOUT")
        elif r.server_close() is not None:
            ended.append(f"{r.id} : fermée par l'opérateur")
        elif r.transcript.closed:
            ended.append(f"{r.id} : connexion fermée par le candidat")
        else:
            left_open.append(r.id)
    if left_open:
        return Verdict(False, f"sessions authentifiées restées ouvertes : {', '.join(left_open)}")
    return Verdict(bool(authenticated), "; ".join(ended) or "aucune session authentifiée")


def attempts_after_refusal(readings: list[ConnectionReading]) -> Verdict:
    """No authentication attempt after the first refused one (a stale token is not presented again)."""
    attempts = sorted(((a["t"], r.id, bool(a.get("success"))) for r in readings for a in r.auths),
                      key=lambda a: a[0])
    first = next((i for i, a in enumerate(attempts) if not a[2]), None)
    if first is None:
        return Verdict(True, f"aucun refus d'authentification ({len(attempts)} tentative(s))")
    after = attempts[first + 1:]
    listed = ", ".join(f"{cid} à {t}" for t, cid, _ in after)
    return Verdict(not after, f"premier refus : {attempts[first][1]} à {attempts[first][0]} ; tentatives "
                              f"ensuite : {len(after)}" + (f" ({listed})" if after else ""))


@dataclass(frozen=True)
class Reopening:
    """A session the operator ended, and the next session the candidate authenticated after it."""

    closed: ConnectionReading
    closed_at: datetime
    reopened: ConnectionReading | None
    delay: float | None  # seconds between the server's close and the new accepted authentication

    def tokens(self) -> tuple[str | None, str | None]:
        """Digests of the token of the closed session and of the reopened one."""

        def digest(reading: ConnectionReading | None) -> str | None:
            accepted = reading.accepted if reading else ()
            return (accepted[-1].get("token") or {}).get("jti_sha256") if accepted else None

        return digest(self.closed), digest(self.reopened)


def reopening(readings: list[ConnectionReading]) -> Reopening | None:
    """The first session ended by the operator, and the first accepted authentication after that moment."""
    for r in readings:
        close = r.server_close()
        if close is None:
            continue
        closed_at = instant(close.t)
        later = sorted(((instant(a["t"]), other) for other in readings if other is not r
                        for a in other.accepted if instant(a["t"]) >= closed_at), key=lambda x: x[0])
        if not later:
            return Reopening(r, closed_at, None, None)
        at, reopened = later[0]
        return Reopening(r, closed_at, reopened, round((at - closed_at).total_seconds(), 3))
    return None


def judge_reopening(found: Reopening | None, delay: float) -> Verdict:
    if found is None:
        return Verdict(False, "aucune session fermée par l'opérateur n'a été observée")
    how = found.closed.server_close()
    cause = how.text if how is not None else "fermeture"
    if found.reopened is None:
        return Verdict(False, f"{found.closed.id} fermée par l'opérateur ({cause}) ; aucune nouvelle session "
                              "authentifiée ensuite")
    assert found.delay is not None
    return Verdict(found.delay <= delay, f"{found.closed.id} fermée par l'opérateur ({cause}) ; "
                                         f"{found.reopened.id} authentifiée {found.delay:g} s plus tard")


def judge_fresh_token(found: Reopening | None) -> Verdict:
    before, after = found.tokens() if found else (None, None)
    if found is None or found.reopened is None:
        return Verdict(False, "aucune réouverture observée")
    same = before is not None and before == after
    return Verdict(after is not None and not same,
                   f"jeton de {found.closed.id} : {before or 'inconnu'} ; jeton de {found.reopened.id} : "
                   f"{after or 'inconnu'} (empreintes)")
