"""`segur-mss run --workers 2` (pytest-xdist) gives the same dossier as a serial run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from segur_mss.evidence.bundle import verify

from ..conftest import load_results
from .conftest import run_campaign

#: What legitimately differs between any two runs, serial or not: times, the run's id, and what the operator
#: numbers per process or the candidate generates (message and connection sequence numbers, Message-ID, and hence
#: the bytes, sizes and hashes of the proofs that embed a date or a Message-ID).
VOLATILE_KEYS = {"started", "finished", "created", "sha256", "size", "id_run"}
SEQUENCES = [
    (re.compile(r"msg-\d{4}"), "msg-NNNN"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),  # ephemeral ports differ between processes
    (re.compile(r"\bports? \d+(?: ou \d+)?"), "port N"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?"), "TIMESTAMP"),  # when things happened
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "UUID"),  # generated ids
    (re.compile(r"\b2\.25\.\d+"), "OID"),  # generated document OIDs
    (re.compile(r"\bDOC-[A-Z-]+-\d+"), "DOCNUM"),  # producers' document numbers
    (re.compile(r"\b\d+ jeton\(s\)"), "N jeton(s)"),  # tokens issued by one process's operator so far
    (re.compile(r"\b[0-9a-f]{16}\b"), "DIGEST"),  # digests of per-run tokens
    (re.compile(r"/tmp/segur-mss-[a-z]+-[A-Za-z0-9_]+"), "/tmp/segur-mss-TMP"),  # per-scenario working folders
    (re.compile(r"SIZE=\d+"), "SIZE=N"),  # message sizes vary with generated ids and dates
    (re.compile(r"\b\d+(?:[.,]\d+)? ?(?:s|ms)\b"), "DURATION"),  # measured delays
    (re.compile(r"transcript-\d{4}"), "transcript-NNNN"),
    (re.compile(r"connexion \d{4}"), "connexion NNNN"),
    (re.compile(r"\b\d{4}-(smtp|imap)"), r"NNNN-\1"),
    (re.compile(r"<[^<>@\s]+@[^<>\s]+>"), "<message-id>"),
]


def normalise(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: normalise(v, k) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str):
        for pattern, replacement in SEQUENCES:
            value = pattern.sub(replacement, value)
    return value


def test_parallel_run_gives_the_same_dossier_as_a_serial_run(campaign_run: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "parallele"
    proc = run_campaign(out, "--workers", "2")
    serial = load_results(campaign_run["out"])
    parallel = load_results(out)
    assert proc.returncode == campaign_run["proc"].returncode, proc.stdout + proc.stderr
    assert parallel["run"]["complete"] is True
    assert parallel["summary"] == serial["summary"]
    assert [(r["id"], r["status"]) for r in parallel["requirements"]] == \
        [(r["id"], r["status"]) for r in serial["requirements"]]
    serial["run"].pop("id")
    parallel["run"].pop("id")
    assert normalise(parallel) == normalise(serial)
    # every proof of the parallel run is on disk, once, with the hash results.json gives
    paths = [p["path"] for r in parallel["requirements"] for s in r["scenarios"] for p in s["proofs"]]
    assert len(paths) == len(set(paths)) and all((out / p).is_file() for p in paths)
    assert verify(tmp_path / "parallele.zip").ok
