"""Reading the Gherkin feature files: which scenario covers which requirement (tags are requirement IDs)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gherkin.parser import Parser
from gherkin.token_scanner import TokenScanner

from segur_mss.catalogue.model import SCENARIO_SUFFIX, Catalogue

MODE_TAGS = {"automatique": "automatique", "observe": "observé", "atteste": "attesté"}


@dataclass(frozen=True)
class FeatureScenario:
    requirement: str
    scenario_id: str
    name: str
    path: Path
    line: int
    modes: tuple[str, ...]


@dataclass(frozen=True)
class TagProblem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} : {self.message}"


def _tags(node: dict) -> list[tuple[str, int]]:
    return [(t["name"].lstrip("@"), t["location"]["line"]) for t in node.get("tags", [])]


def scan_features(root: Path, catalogue: Catalogue) -> tuple[list[FeatureScenario], list[TagProblem]]:
    """All scenarios under `root` with their requirement and scenario number, and the tag problems found."""
    scenarios: list[FeatureScenario] = []
    problems: list[TagProblem] = []
    for path in sorted(root.rglob("*.feature")):
        doc = Parser().parse(TokenScanner(path.read_text(encoding="utf-8")))
        feature = doc.get("feature")
        if not feature:
            continue
        _walk(path, feature, _tags(feature), catalogue, scenarios, problems)
    return scenarios, problems


def _walk(path, node, inherited, catalogue, scenarios, problems) -> None:  # type: ignore[no-untyped-def]
    for child in node.get("children", []):
        if "rule" in child:
            _walk(path, child["rule"], inherited + _tags(child["rule"]), catalogue, scenarios, problems)
        elif "scenario" in child:
            sc = child["scenario"]
            tags = inherited + _tags(sc)
            _scenario(path, sc, tags, catalogue, scenarios, problems)


def _scenario(path, sc, tags, catalogue, scenarios, problems) -> None:  # type: ignore[no-untyped-def]
    line = sc["location"]["line"]
    requirements = [t for t, _ in tags if t in catalogue]
    scenario_ids = [t for t, _ in tags if catalogue.requirement_of_scenario(t)]
    for tag, tag_line in tags:
        looks_like_id = tag.startswith("SC.")
        if looks_like_id and tag not in catalogue and not catalogue.requirement_of_scenario(tag):
            problems.append(TagProblem(path, tag_line, f"l'étiquette @{tag} n'est pas une exigence du catalogue"))
    if len(scenario_ids) != 1:
        problems.append(TagProblem(path, line, f"le scénario « {sc['name']} » doit porter un numéro de scénario "
                                               "(@<exigence>.NN) et un seul"))
        return
    scenario_id = scenario_ids[0]
    requirement = catalogue.requirement_of_scenario(scenario_id)
    assert requirement is not None
    if requirements and requirement not in requirements:
        problems.append(TagProblem(path, line, f"le numéro {scenario_id} ne prolonge pas l'exigence {requirements}"))
    if not SCENARIO_SUFFIX.match(scenario_id):
        problems.append(TagProblem(path, line, f"numéro de scénario mal formé : {scenario_id}"))
    modes = tuple(MODE_TAGS[t] for t, _ in tags if t in MODE_TAGS) or ("automatique",)
    scenarios.append(FeatureScenario(requirement, scenario_id, sc["name"], path, line, modes))


def duplicates(scenarios: list[FeatureScenario]) -> list[TagProblem]:
    seen: dict[str, FeatureScenario] = {}
    problems = []
    for sc in scenarios:
        if sc.scenario_id in seen:
            first = seen[sc.scenario_id].path
            problems.append(TagProblem(sc.path, sc.line, f"numéro {sc.scenario_id} déjà utilisé ({first})"))
        seen[sc.scenario_id] = sc
    return problems
