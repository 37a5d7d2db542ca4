"""Test-only pytest plugin (`PYTEST_ADDOPTS=-p tests.scenarios._personne_attestante`): the reference candidate
driven by a person who gives attested proofs through the manual adapter, from the answers file named by
SEGUR_MSS_ANSWERS (the person accepts the prepared answers). Automated actions stay the reference's own."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from segur_mss.candidates.base import Action, ActionResult, CandidateEnvironment, EvidenceRequest
from segur_mss.candidates.manual import ManualCandidate
from segur_mss.candidates.reference import ReferenceCandidate


class PersonAcceptingPreparedAnswers:
    """A terminal whose person answers « o » (use the prepared answers) to every question."""

    def __init__(self) -> None:
        self.console = Console(file=io.StringIO(), force_terminal=False, width=140)

    def poll_line(self, timeout: float) -> str | None:
        return None

    def ask(self, prompt: str) -> str:
        return "o"

    def close(self) -> None:
        return None


class AttestingReference(ReferenceCandidate):
    """The reference product, plus a person at the keyboard for the attested proofs."""

    def capabilities(self) -> frozenset[Action]:
        return super().capabilities() | {Action.ATTEST}

    def attest(self, request: EvidenceRequest) -> ActionResult:
        return ManualCandidate(self.env, terminal=PersonAcceptingPreparedAnswers()).attest(request)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    import fixtures.campaign as campaign

    original = campaign.build_candidate

    def build(spec: Any, env: CandidateEnvironment) -> Any:
        return AttestingReference(env) if spec.kind == "reference" else original(spec, env)

    campaign.build_candidate = build
