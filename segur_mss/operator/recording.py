"""Recording of everything a candidate does against the operator: connection transcripts, submitted
messages, HTTP exchanges. Written as it happens (line-buffered, flushed) under the operator's folder, with
secrets redacted; kept in memory too so scenario checks can read it. Captures let a scenario collect what
happened while it was armed.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segur_mss.operator.clock import Clock
from segur_mss.redaction import REDACTED, REDACTOR, Redactor

#: Turns one protocol line into its transcript text (hiding secrets); may keep state on the transcript.
LineFilter = Callable[["Transcript", str, str], str]


def _plain(_t: Transcript, _direction: str, line: str) -> str:
    return line


@dataclass
class Entry:
    """One transcript line: `C` from the client, `S` from the server, `*` an event observed by the operator."""

    t: str
    direction: str
    text: str
    event: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def render(self) -> str:
        return f"{self.t} {self.direction} {self.text}"


class Transcript:
    """The transcript of one connection (one service, one peer)."""

    def __init__(
        self,
        number: int,
        service: str,
        peer: str,
        path: Path,
        clock: Clock,
        redactor: Redactor,
        line_filter: LineFilter = _plain,
    ) -> None:
        self.id = f"{number:04d}-{service}"
        self.service = service
        self.peer = peer
        self.path = path
        self.entries: list[Entry] = []
        self.state: dict[str, Any] = {}
        self._clock = clock
        self._redactor = redactor
        self._filter = line_filter
        self._buffer = b""
        self._lock = threading.Lock()
        self._fh = path.open("a", encoding="utf-8", buffering=1)
        self.closed = False
        self.event("connexion", f"connexion de {peer}", peer=peer, service=service)

    # -- writing ----------------------------------------------------------------------------------------
    def _append(self, entry: Entry) -> None:
        with self._lock:
            self.entries.append(entry)
            if not self._fh.closed:
                self._fh.write(entry.render() + "\n")

    def _stamp(self) -> str:
        return self._clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def client_bytes(self, data: bytes) -> None:
        """Raw bytes from the client, split into lines (a partial line waits for its end)."""
        self._buffer += data
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            self.line("C", line.rstrip(b"\r").decode("utf-8", "replace"))
        if len(self._buffer) > 65536:  # never hold an unbounded partial line
            self.line("C", f"[ligne de {len(self._buffer)} octets sans fin de ligne]")
            self._buffer = b""

    def line(self, direction: str, text: str) -> None:
        shown = self._filter(self, direction, text)
        if shown is None:
            return
        self._append(Entry(self._stamp(), direction, self._redactor.text(shown)))

    def server_line(self, text: str) -> None:
        self.line("S", text)

    def event(self, name: str, text: str, **data: Any) -> None:
        safe = {k: (self._redactor.text(v) if isinstance(v, str) else v) for k, v in data.items()}
        self._append(Entry(self._stamp(), "*", self._redactor.text(text), name, safe))

    def close(self, reason: str = "fin de connexion") -> None:
        if self.closed:
            return
        if self._buffer:
            self.line("C", self._buffer.decode("utf-8", "replace"))
            self._buffer = b""
        self.event("deconnexion", reason)
        self.closed = True
        with self._lock:
            self._fh.close()

    # -- reading ----------------------------------------------------------------------------------------
    def events(self, name: str) -> list[Entry]:
        return [e for e in self.entries if e.event == name]

    def client_commands(self) -> list[str]:
        """The client's command words, in order (e.g. EHLO, STARTTLS, AUTH)."""
        words = []
        for e in self.entries:
            if e.direction == "C" and e.text and not e.text.startswith("["):
                words.append(e.text.split(" ", 1)[0].upper())
        return words

    def text(self) -> str:
        with self._lock:
            return "\n".join(e.render() for e in self.entries) + "\n"


@dataclass
class Submission:
    """A message submitted to the operator over SMTP, as received (raw bytes, envelope, authentication)."""

    id: str
    transcript_id: str
    mail_from: str
    rcpt_tos: list[str]
    mail_options: list[str]
    rcpt_options: list[list[str]]
    raw: bytes
    mailbox: str | None
    mechanism: str | None
    tls: dict[str, Any]
    received_at: str
    refused: dict[str, str] = field(default_factory=dict)  # recipient -> reason


@dataclass
class HttpExchange:
    service: str
    method: str
    path: str
    status: int
    at: str
    request: str = ""
    response: str = ""


class Capture:
    """What reached the operator while a scenario was armed."""

    def __init__(self) -> None:
        self.transcripts: list[Transcript] = []
        self.submissions: list[Submission] = []
        self.http: list[HttpExchange] = []

    def by_service(self, service: str) -> list[Transcript]:
        return [t for t in self.transcripts if t.service == service]


class Recorder:
    """The operator's recorder; every server reports to it."""

    def __init__(self, directory: Path, clock: Clock, redactor: Redactor = REDACTOR) -> None:
        self.directory = Path(directory)
        (self.directory / "transcripts").mkdir(parents=True, exist_ok=True)
        (self.directory / "messages").mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self.redactor = redactor
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._captures: list[Capture] = []
        self.transcripts: list[Transcript] = []
        self.submissions: list[Submission] = []
        self.http: list[HttpExchange] = []

    def open_transcript(self, service: str, peer: str, line_filter: LineFilter = _plain) -> Transcript:
        with self._lock:
            number = next(self._numbers)
        path = self.directory / "transcripts" / f"{number:04d}-{service}.log"
        transcript = Transcript(number, service, peer, path, self.clock, self.redactor, line_filter)
        with self._lock:
            self.transcripts.append(transcript)
            for cap in self._captures:
                cap.transcripts.append(transcript)
        return transcript

    def stamp(self) -> str:
        return self.clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def record_submission(self, submission: Submission) -> None:
        (self.directory / "messages" / f"{submission.id}.eml").write_bytes(submission.raw)
        with self._lock:
            self.submissions.append(submission)
            for cap in self._captures:
                cap.submissions.append(submission)

    def record_http(self, exchange: HttpExchange) -> None:
        exchange.request = self.redactor.text(exchange.request)
        exchange.response = self.redactor.text(exchange.response)
        with self._lock:
            self.http.append(exchange)
            for cap in self._captures:
                cap.http.append(exchange)

    @contextlib.contextmanager
    def capture(self) -> Iterator[Capture]:
        cap = Capture()
        with self._lock:
            self._captures.append(cap)
        try:
            yield cap
        finally:
            with self._lock:
                self._captures.remove(cap)


def redact_auth_lines(transcript: Transcript, direction: str, line: str) -> str:
    """SMTP/IMAP: keep the mechanism of an AUTH command, hide its initial response and SASL continuations."""
    if direction == "S":
        transcript.state["sasl_continuation"] = line.startswith("334") or line.startswith("+")
        return line
    if transcript.state.pop("sasl_continuation", False):
        return REDACTED if line.strip() else line
    words = line.split()
    if words and words[0].upper() == "AUTH" and len(words) > 2:
        return f"{words[0]} {words[1]} {REDACTED}"
    if len(words) > 3 and words[1].upper() == "AUTHENTICATE":
        return f"{words[0]} {words[1]} {words[2]} {REDACTED}"
    return line
