"""Evidence store: `<run>/evidence/<requirement>/<scenario>/…`, written as the run goes.

Every file is written atomically (temporary file, fsync, rename), so a crash leaves either the previous state or
the new one, never half a file. Every proof gets a Convergence-style number (`<scenario>.<nn>`), a kind and its
SHA-256. Text goes through the redactor before it touches the disk.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from segur_mss.redaction import REDACTOR, Redactor
from segur_mss.verdicts import Check

PROOF_KINDS = ("transcript", "message", "validator_report", "screenshot", "video", "export", "statement", "log")
SCENARIO_RECORD = "scenario.json"
#: Media types whose content is text and goes through the redactor before it is stored.
TEXT_MEDIA_TYPES = ("message/rfc822", "application/json", "application/xml", "application/x-ndjson")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def safe_name(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", value).strip("_") or "x"


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old or the new content, never a torn file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_json(path: Path, value: Any) -> None:
    atomic_write(path, json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8"))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Proof:
    id: str
    kind: str
    title: str
    path: str  # relative to the run folder
    sha256: str
    size: int
    created: str
    media_type: str = "text/plain"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ScenarioEvidence:
    """Evidence of one scenario: its proofs, its checks, and finally its status."""

    run_dir: Path
    requirement: str
    scenario_id: str
    name: str
    redactor: Redactor = field(default_factory=lambda: REDACTOR)
    proofs: list[Proof] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    started: str = field(default_factory=now_iso)
    notes: list[str] = field(default_factory=list)
    status: str | None = None
    reason: str | None = None
    mode: str = "automatique"
    finished: str | None = None

    def __post_init__(self) -> None:
        self.directory = self.run_dir / "evidence" / safe_name(self.requirement) / safe_name(self.scenario_id)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._save()

    # -- proofs -----------------------------------------------------------------------------------------
    def add_proof(
        self,
        kind: str,
        filename: str,
        data: bytes | str,
        title: str,
        *,
        media_type: str = "text/plain",
        redact: bool = True,
    ) -> Proof:
        """Store a proof file; text is redacted first. Returns the proof with its number and hash."""
        if kind not in PROOF_KINDS:
            raise ValueError(f"unknown proof kind {kind}")
        raw = data.encode("utf-8") if isinstance(data, str) else data
        if redact and (media_type.startswith("text/") or media_type in TEXT_MEDIA_TYPES):
            raw = self.redactor.bytes(raw)
        with self._lock:
            number = len(self.proofs) + 1
            proof_id = f"{self.scenario_id}.{number:02d}"
            target = self.directory / f"{number:02d}-{safe_name(filename)}"
            atomic_write(target, raw)
            proof = Proof(
                id=proof_id,
                kind=kind,
                title=title,
                path=str(target.relative_to(self.run_dir)),
                sha256=hashlib.sha256(raw).hexdigest(),
                size=len(raw),
                created=now_iso(),
                media_type=media_type,
            )
            self.proofs.append(proof)
        self._save()
        return proof

    def add_file(self, kind: str, source: Path, title: str, *, media_type: str | None = None) -> Proof:
        """Store a file given by the operator or the candidate (screenshot, video, export, statement…)."""
        source = Path(source)
        guessed = media_type or mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        return self.add_proof(kind, source.name, source.read_bytes(), title, media_type=guessed)

    def find_proof(self, title: str) -> Proof | None:
        return next((p for p in self.proofs if p.title == title), None)

    # -- checks and status ------------------------------------------------------------------------------
    def record_check(self, check: Check) -> None:
        # What the candidate sent may carry a secret (a token where a header value was expected): redact it.
        for name in ("check", "expected", "observed"):
            setattr(check, name, self.redactor.text(str(getattr(check, name))))
        with self._lock:
            self.checks.append(check)
        self._save()

    def note(self, text: str) -> None:
        self.notes.append(self.redactor.text(text))
        self._save()

    def finish(self, status: str, reason: str | None = None) -> None:
        self.status = status
        self.reason = self.redactor.text(reason) if reason else None
        self.finished = now_iso()
        self._save(finished=self.finished)

    def record(self, finished: str | None = None) -> dict[str, Any]:
        failures = [c.failure() for c in self.checks if not c.passed]
        return {
            "id": self.scenario_id,
            "requirement": self.requirement,
            "name": self.name,
            "mode": self.mode,
            "status": self.status or "running",
            "reason": self.reason,
            "started": self.started,
            "finished": finished or self.finished,
            "proofs": [{"id": p.id, "kind": p.kind, "path": p.path, "sha256": p.sha256, "title": p.title,
                        "media_type": p.media_type, "size": p.size, "created": p.created} for p in self.proofs],
            "checks": [c.to_dict() for c in self.checks],
            "failures": failures,
            "notes": list(self.notes),
        }

    def _save(self, finished: str | None = None) -> None:
        write_json(self.directory / SCENARIO_RECORD, self.record(finished or self.finished))


def load_scenario_records(run_dir: Path) -> list[dict[str, Any]]:
    """Every scenario record of a run (those of a crashed run included, with status `running`)."""
    records = []
    for path in sorted((run_dir / "evidence").glob(f"*/*/{SCENARIO_RECORD}")):
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
    return records
