"""Statuses of the results.json contract and the exceptions that carry a verdict out of a scenario."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

PASSED = "passed"
FAILED = "failed"
ERROR = "error"
NOT_APPLICABLE = "not_applicable"
AWAITING_EVIDENCE = "awaiting_evidence"
NOT_TESTED = "not_tested"
STATUSES = (PASSED, FAILED, ERROR, NOT_APPLICABLE, AWAITING_EVIDENCE, NOT_TESTED)

STATUS_LABELS = {
    PASSED: "conforme",
    FAILED: "non conforme",
    ERROR: "erreur",
    NOT_APPLICABLE: "non applicable",
    AWAITING_EVIDENCE: "preuve attendue",
    NOT_TESTED: "non testé",
}

# The most telling status wins when scenarios of one requirement disagree.
_PRECEDENCE = (FAILED, ERROR, AWAITING_EVIDENCE, NOT_TESTED, PASSED)


def combine(statuses: Iterable[str]) -> str | None:
    """A requirement's status from its scenarios': `passed` only when every applicable one passed."""
    applicable = [s for s in statuses if s != NOT_APPLICABLE]
    if not applicable:
        return NOT_APPLICABLE if statuses else None
    for status in _PRECEDENCE:
        if status in applicable:
            return status
    return NOT_TESTED


@dataclass
class Check:
    """One judgement: what was expected, what was observed, whether it holds, and the proofs behind it."""

    requirement: str
    check: str
    expected: str
    observed: str
    passed: bool
    proofs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requirement": self.requirement,
            "check": self.check,
            "expected": self.expected,
            "observed": self.observed,
            "passed": self.passed,
            "proofs": list(self.proofs),
        }

    def failure(self) -> dict[str, str]:
        return {"check": self.check, "expected": self.expected, "observed": self.observed}


class ConformityFailure(AssertionError):
    """A check that does not hold: the candidate is not conformant on this point."""

    def __init__(self, check: Check) -> None:
        super().__init__(
            f"[{check.requirement}] {check.check} — attendu : {check.expected} ; observé : {check.observed}"
        )
        self.check = check


class _Verdict(pytest.skip.Exception):  # type: ignore[misc, name-defined]
    status = NOT_TESTED

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotTested(_Verdict):
    """The scenario cannot be run (unsupported action, missing input): `not_tested` with the reason."""

    status = NOT_TESTED


class AwaitingEvidence(_Verdict):
    """A manual or attested proof has not been given yet."""

    status = AWAITING_EVIDENCE


class NotApplicable(_Verdict):
    """The requirement does not apply to the chosen profile."""

    status = NOT_APPLICABLE
