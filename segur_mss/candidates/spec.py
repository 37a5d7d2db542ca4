"""`--candidate SPEC`: which candidate drives the campaign (reference, faulty:<defect>, command:, http:, manual)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import yaml

from segur_mss.candidates.base import CandidateAdapter, CandidateEnvironment
from segur_mss.candidates.faulty import FAULTY_CLASSES
from segur_mss.candidates.reference import ReferenceCandidate

KINDS = ("reference", "faulty", "command", "http", "manual")
NOT_YET = ("command", "http", "manual")


class CandidateSpecError(ValueError):
    """A `--candidate` value the harness cannot use (French message naming the valid choices)."""


@dataclass(frozen=True)
class Defect:
    name: str
    requirement: str
    description: str


@dataclass(frozen=True)
class CandidateSpec:
    kind: str
    value: str = ""

    def __str__(self) -> str:
        return self.kind if not self.value else f"{self.kind}:{self.value}"


def load_defects() -> dict[str, Defect]:
    raw = yaml.safe_load(resources.files("segur_mss.candidates").joinpath("defects.yaml").read_text(encoding="utf-8"))
    return {d["name"]: Defect(**d) for d in raw["defects"]}


def valid_choices() -> str:
    faulty = ", ".join(f"faulty:{name}" for name in sorted(load_defects()))
    return f"reference, {faulty}"


def parse_candidate_spec(text: str) -> CandidateSpec:
    kind, _, value = text.partition(":")
    if kind == "reference" and not value:
        return CandidateSpec("reference")
    if kind == "faulty":
        if value in load_defects():
            return CandidateSpec("faulty", value)
        raise CandidateSpecError(f"candidat fautif inconnu « {value} ». Choix possibles : {valid_choices()}")
    if kind in NOT_YET:
        raise CandidateSpecError(
            f"l'adaptateur « {kind} » n'est pas encore disponible dans cette version. Choix possibles : "
            f"{valid_choices()}"
        )
    raise CandidateSpecError(f"candidat inconnu « {text} ». Choix possibles : {valid_choices()}")


def build_candidate(spec: CandidateSpec, env: CandidateEnvironment) -> CandidateAdapter:
    if spec.kind == "reference":
        return ReferenceCandidate(env)
    if spec.kind == "faulty":
        candidate = FAULTY_CLASSES[spec.value](env)
        candidate.name = str(spec)
        return candidate
    raise CandidateSpecError(f"candidat non pris en charge : {spec}")
