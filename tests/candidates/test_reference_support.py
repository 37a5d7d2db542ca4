"""Fixtures of the reference candidate's tests: a real reference operator per test, candidates configured from
its env.json like a product would be, and small readers of what reached the operator. (No tests here.)"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from segur_mss.candidates.base import CandidateEnvironment
from segur_mss.candidates.faulty import FAULTY_CLASSES
from segur_mss.candidates.reference import ReferenceCandidate
from segur_mss.operator.recording import Capture, Transcript
from segur_mss.operator.service import ReferenceOperator

SENDER = "claire.martin@test.mssante.fr"
CORRESPONDENT = "paul.durand@test.mssante.fr"
APP = "pfi.clinique@test.mssante.fr"


def environment(operator: ReferenceOperator, workdir: Path, **changes: Any) -> CandidateEnvironment:
    """The candidate's configuration from the operator's env.json, as `segur-mss env up` prints it."""
    env = operator.env()
    values: dict[str, Any] = dict(
        smtp_host=env["smtp"]["host"], smtp_port=env["smtp"]["port"], ca_bundle=Path(env["ca_bundle"]),
        server_name=env["server_name"], product_reference="SEGUR-MSS-REF-0001", imap_host=env["imap"]["host"],
        imap_port=env["imap"]["port"], psc=env["psc"], workdir=workdir, directory_url=env["directory"]["url"],
        autoconfig_url=env["autoconfig"]["url"], mailboxes=tuple(env["mailboxes"]),
    )
    values.update(changes)
    return CandidateEnvironment(**values)


@pytest.fixture(name="lps_operator")
def lps_operator_fixture() -> Iterator[ReferenceOperator]:
    directory = Path(tempfile.mkdtemp(prefix="segur-mss-op-test-"))
    operator = ReferenceOperator(directory).start()
    try:
        yield operator
    finally:
        operator.stop()


@pytest.fixture(name="make_candidate")
def make_candidate_fixture(
    lps_operator: ReferenceOperator, tmp_path: Path
) -> Iterator[Callable[..., ReferenceCandidate]]:
    """`make_candidate(defect=None, **env_changes)`: a candidate with its own working directory."""
    made: list[ReferenceCandidate] = []

    def make(defect: str | None = None, **changes: Any) -> ReferenceCandidate:
        workdir = tmp_path / f"candidat-{len(made) + 1}"
        workdir.mkdir()
        cls = FAULTY_CLASSES[defect] if defect else ReferenceCandidate
        candidate = cls(environment(lps_operator, workdir, **changes))
        made.append(candidate)
        return candidate

    yield make
    for candidate in made:
        candidate.close()


def commands(capture: Capture, service: str) -> list[list[str]]:
    """The client's command words of each connection of `service` (imap transcripts keep the tag first)."""
    out = []
    for transcript in capture.by_service(service):
        words = []
        for entry in transcript.entries:
            if entry.direction != "C" or not entry.text or entry.text.startswith("["):
                continue
            parts = entry.text.split(" ")
            words.append((parts[1] if service == "imap" and len(parts) > 1 else parts[0]).upper())
        out.append(words)
    return out


def auth_events(capture: Capture) -> list[dict[str, Any]]:
    return [e.data for t in capture.transcripts for e in t.events("auth")]


def transcript_text(capture: Capture) -> str:
    return "\n".join(t.text() for t in capture.transcripts)


def replace_env(candidate: ReferenceCandidate, **changes: Any) -> None:
    candidate.env = dataclasses.replace(candidate.env, **changes)


def closed_by_logout(transcript: Transcript) -> bool:
    return any(e.direction == "C" and " LOGOUT" in e.text.upper() for e in transcript.entries)
