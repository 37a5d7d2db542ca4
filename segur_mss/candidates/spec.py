"""`--candidate SPEC`: which candidate drives the campaign (reference, faulty:<defect>, command:, http:, manual)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from segur_mss.candidates.base import CandidateAdapter, CandidateEnvironment
from segur_mss.candidates.faulty import FAULTY_CLASSES
from segur_mss.candidates.reference import ReferenceCandidate

KINDS = ("reference", "faulty", "command", "http", "manual")
NOT_YET: tuple[str, ...] = ()


class CandidateSpecError(ValueError):
    """A `--candidate` value the harness cannot use (French message naming the valid choices)."""


@dataclass(frozen=True)
class Defect:
    name: str
    requirement: str
    description: str
    #: Other requirements this defect is allowed to break too (declared, never hidden: see the self-test).
    collateral: tuple[str, ...] = ()


@dataclass(frozen=True)
class CandidateSpec:
    kind: str
    value: str = ""

    def __str__(self) -> str:
        return self.kind if not self.value else f"{self.kind}:{self.value}"


def load_defects() -> dict[str, Defect]:
    raw = yaml.safe_load(resources.files("segur_mss.candidates").joinpath("defects.yaml").read_text(encoding="utf-8"))
    return {d["name"]: Defect(**{**d, "collateral": tuple(d.get("collateral") or ())}) for d in raw["defects"]}


def valid_choices() -> str:
    faulty = ", ".join(f"faulty:{name}" for name in sorted(load_defects()))
    return f"reference, {faulty}, command:<fichier.toml>, http:<url>, manual"


def parse_candidate_spec(text: str) -> CandidateSpec:
    kind, _, value = text.partition(":")
    if kind == "reference" and not value:
        return CandidateSpec("reference")
    if kind == "faulty":
        if value in load_defects():
            return CandidateSpec("faulty", value)
        raise CandidateSpecError(f"candidat fautif inconnu « {value} ». Choix possibles : {valid_choices()}")
    if kind == "command":
        return _command_spec(value)
    if kind == "http":
        return _http_spec(value)
    if kind == "manual" and not value:
        return CandidateSpec("manual")
    if kind in NOT_YET:
        raise CandidateSpecError(
            f"l'adaptateur « {kind} » n'est pas encore disponible dans cette version. Choix possibles : "
            f"{valid_choices()}"
        )
    raise CandidateSpecError(f"candidat inconnu « {text} ». Choix possibles : {valid_choices()}")


def _command_spec(value: str) -> CandidateSpec:
    from segur_mss.candidates.command import CommandFileError, load_command_file

    if not value:
        raise CandidateSpecError(
            "command: attend le chemin d'un fichier TOML (ex. command:examples/candidat-commande.toml)"
        )
    path = Path(value).expanduser().resolve()
    try:
        load_command_file(path)
    except CommandFileError as exc:
        raise CandidateSpecError(str(exc)) from exc
    return CandidateSpec("command", str(path))


def _http_spec(value: str) -> CandidateSpec:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CandidateSpecError(
            f"http: attend l'adresse du point d'accès de test du produit (ex. http:http://127.0.0.1:8080/segur), "
            f"pas « {value} »"
        )
    from segur_mss.candidates.http import http_settings

    try:
        http_settings()
    except ValueError as exc:
        raise CandidateSpecError(str(exc)) from exc
    return CandidateSpec("http", value.rstrip("/"))


def build_candidate(spec: CandidateSpec, env: CandidateEnvironment) -> CandidateAdapter:
    if spec.kind == "reference":
        return ReferenceCandidate(env)
    if spec.kind == "faulty":
        candidate = FAULTY_CLASSES[spec.value](env)
        candidate.name = str(spec)
        return candidate
    if spec.kind == "command":
        from segur_mss.candidates.command import CommandCandidate, load_command_file

        return CommandCandidate(env, load_command_file(spec.value), name=str(spec))
    if spec.kind == "http":
        from segur_mss.candidates.http import HttpCandidate

        return HttpCandidate(env, spec.value, name=str(spec))
    if spec.kind == "manual":
        from segur_mss.candidates.manual import ManualCandidate

        return ManualCandidate(env)
    raise CandidateSpecError(f"candidat non pris en charge : {spec}")
