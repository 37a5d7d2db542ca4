"""Common result model of every validator: findings and a report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from segur_mss import __version__ as _harness_version

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")

#: Version of the rule sets shipped in this package (bump when a rule changes meaning).
RULESET_VERSION = "1.0"


def validator_version(name: str) -> str:
    """``<name>/<ruleset> (segur-mss <harness version>)``."""
    return f"{name}/{RULESET_VERSION} (segur-mss {_harness_version})"


@dataclass(frozen=True)
class Finding:
    """One observation of a validator.

    ``location`` is a namespace-free XPath (``/ClinicalDocument/setId``), a zip entry name, a header name
    (``header:X-MSS-NIL``) or a MIME part path; ``line`` is the source line when known. ``requirement`` carries the
    Ségur requirement ID (``SC.MSS/CONF.16``) when the rule verifies one.
    """

    rule_id: str
    severity: Severity
    location: str
    message: str
    requirement: str | None = None
    line: int | None = None
    expected: str | None = None
    observed: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "rule_id": self.rule_id,
            "severity": self.severity,
            "location": self.location,
            "message": self.message,
            "requirement": self.requirement,
        }
        for key in ("line", "expected", "observed"):
            value = getattr(self, key)
            if value is not None:
                d[key] = value
        return d

    def __str__(self) -> str:
        where = f"{self.location}" + (f" (ligne {self.line})" if self.line else "")
        req = f" [{self.requirement}]" if self.requirement else ""
        return f"{self.severity.upper()} {self.rule_id}{req} {where} : {self.message}"


@dataclass
class ValidationReport:
    """What one validator concluded about one subject (a file, a message, an archive)."""

    validator: str
    version: str
    subject: str
    findings: list[Finding] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """No finding of severity ``error``."""
        return not any(f.severity == "error" for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def rule_ids(self, severity: str | None = None) -> set[str]:
        """Rule ids found (optionally only of one severity) — handy in tests."""
        return {f.rule_id for f in self.findings if severity is None or f.severity == severity}

    def has(self, rule_id: str, severity: str | None = None) -> bool:
        return any(f.rule_id == rule_id and (severity is None or f.severity == severity) for f in self.findings)

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "validator": self.validator,
            "version": self.version,
            "subject": self.subject,
            "valid": self.valid,
            "counts": self.counts(),
            "findings": [f.to_dict() for f in self.findings],
            "extra": self.extra,
        }

    def summary(self) -> str:
        c = self.counts()
        verdict = "VALIDE" if self.valid else "NON VALIDE"
        return (
            f"{self.subject} : {verdict} ({c['error']} erreur(s), {c['warning']} avertissement(s), "
            f"{c['info']} info(s)) — {self.validator} {self.version}"
        )
