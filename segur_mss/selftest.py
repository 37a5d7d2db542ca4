"""The harness proves itself: every automated scenario passes on the reference candidate and fails on a faulty one.

`segur-mss selftest` runs the automated campaign on the reference candidate, then each faulty candidate of
`defects.yaml`. For a faulty candidate, the requirement it targets must be `failed`, and every other requirement
it is run on must keep its reference verdict — except the collateral requirements its entry declares
(`collateral: [...]`), which may fail too: declared, never hidden.

Keeping it fast as the campaign grows (2 cores, CI): the reference runs everything once; each faulty candidate
runs only its target, its declared collateral and a few *control* requirements (`--temoins`, rotating over
the other automated requirements so that each of them is checked against several defects), as plain pytest
campaigns in parallel (`--jobs`). `--complet` runs every faulty candidate on every automated requirement.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from segur_mss.candidates.spec import Defect, load_defects
from segur_mss.catalogue import Catalogue, load_catalogue
from segur_mss.catalogue.features import scan_features

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FEATURES = PROJECT_ROOT / "features"
AUTOMATED = "automatique"
RUN_TIMEOUT = 900.0
REFERENCE = "reference"


@dataclass(frozen=True)
class SelftestRun:
    """One campaign of the self-test: a candidate on some requirements (all automated ones when empty)."""

    label: str
    spec: str
    requirements: tuple[str, ...]
    defect: Defect | None = None
    controls: tuple[str, ...] = ()


@dataclass
class RunOutcome:
    run: SelftestRun
    verdicts: dict[str, str] = field(default_factory=dict)  # requirement → status
    scenarios: dict[str, str] = field(default_factory=dict)  # scenario → status
    reasons: dict[str, str] = field(default_factory=dict)  # requirement → first failure / error reason
    duration: float = 0.0
    problem: str = ""  # the campaign itself did not run


@dataclass
class SelftestReport:
    automated: dict[str, list[str]]
    reference: RunOutcome
    faulty: list[RunOutcome]
    problems: list[str]
    undiscriminated: list[str]  # automated scenarios no faulty candidate made fail (information)
    duration: float
    pending: list[str] = field(default_factory=list)  # defects whose target has no automated scenario yet

    @property
    def ok(self) -> bool:
        return not self.problems


# -- planning -----------------------------------------------------------------------------------------------
def automated_requirements(catalogue: Catalogue | None = None, features: Path = FEATURES) -> dict[str, list[str]]:
    """Requirement → its automated scenarios (tag @automatique), in catalogue order."""
    catalogue = catalogue or load_catalogue()
    scenarios, _ = scan_features(features, catalogue)
    found: dict[str, list[str]] = {}
    for sc in scenarios:
        if any(mode.startswith(AUTOMATED) for mode in sc.modes):
            found.setdefault(sc.requirement, []).append(sc.scenario_id)
    order = {req.id: n for n, req in enumerate(catalogue)}
    return {req: sorted(ids) for req, ids in sorted(found.items(), key=lambda item: order.get(item[0], 1 << 30))}


def plan(
    defects: Iterable[Defect], automated: dict[str, list[str]], *, complete: bool = False, controls: int = 1
) -> list[SelftestRun]:
    """The reference run, then one run per faulty candidate (target + collateral + rotating controls)."""
    runs = [SelftestRun(REFERENCE, REFERENCE, tuple(automated))]
    requirements = list(automated)
    for index, defect in enumerate(defects):
        own = [defect.requirement, *[c for c in defect.collateral if c != defect.requirement]]
        others = [r for r in requirements if r not in own]
        if complete:
            chosen = others
        else:
            count = min(controls, len(others))
            chosen = [others[(index * max(controls, 1) + k) % len(others)] for k in range(count)] if others else []
        runs.append(SelftestRun(defect.name, f"faulty:{defect.name}", tuple(dict.fromkeys(own + chosen)), defect,
                                tuple(chosen)))
    return runs


# -- running ------------------------------------------------------------------------------------------------
def run_campaign(run: SelftestRun, out: Path, timeout: float = RUN_TIMEOUT) -> RunOutcome:
    """One plain pytest campaign (`pytest scenarios/ --candidate=…`), read back from its results.json."""
    command = [sys.executable, "-m", "pytest", str(PROJECT_ROOT / "scenarios"), "-q", "-p", "no:cacheprovider",
               "--tb=no", "--candidate", run.spec, "--segur-out", str(out)]
    if run.requirements:
        command += ["--requirements", ",".join(run.requirements)]
    env = dict(os.environ, SEGUR_MSS_DEFER_BUNDLE="1", PYTHONUNBUFFERED="1")
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    started = time.monotonic()
    outcome = RunOutcome(run)
    log = out.parent / f"{out.name}.log"
    out.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as fh:
        try:
            proc = subprocess.run(command, cwd=PROJECT_ROOT, stdout=fh, stderr=subprocess.STDOUT, env=env,
                                  timeout=timeout, check=False)
            returncode: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            returncode = None
    outcome.duration = time.monotonic() - started
    results_path = out / "results.json"
    if returncode is None:
        outcome.problem = f"campagne arrêtée après {timeout:g} s (voir {log})"
    elif returncode not in (0, 1) or not results_path.exists():
        outcome.problem = f"la campagne n'a pas abouti (code pytest {returncode}, voir {log})"
    if not results_path.exists():
        return outcome
    results = json.loads(results_path.read_text(encoding="utf-8"))
    for req in results["requirements"]:
        if run.requirements and req["id"] not in run.requirements:
            continue
        if not req["scenarios"]:
            continue
        outcome.verdicts[req["id"]] = req["status"]
        for sc in req["scenarios"]:
            outcome.scenarios[sc["id"]] = sc["status"]
            if req["id"] not in outcome.reasons and sc["status"] in ("failed", "error"):
                failure = (sc.get("failures") or [{}])[0]
                outcome.reasons[req["id"]] = (
                    f"{sc['id']} : {failure.get('check', '')} — observé {failure.get('observed', '')}"
                    if failure else f"{sc['id']} : {sc.get('reason') or sc['status']}"
                )
    return outcome


# -- judging ------------------------------------------------------------------------------------------------
def judge_reference(outcome: RunOutcome, automated: dict[str, list[str]]) -> list[str]:
    problems = [f"candidat de référence : {outcome.problem}"] if outcome.problem else []
    # Automated scenarios must all pass; a requirement that also has an attested scenario legitimately stays
    # `awaiting_evidence` at requirement level in a non-interactive run.
    for requirement, scenario_ids in automated.items():
        fallback = outcome.verdicts.get(requirement, "absent")  # outcomes known at requirement level only
        bad = {sc: outcome.scenarios.get(sc, fallback) for sc in scenario_ids}
        bad = {sc: status for sc, status in bad.items() if status != "passed"}
        if bad:
            reason = outcome.reasons.get(requirement, "")
            listed = ", ".join(f"{sc} « {status} »" for sc, status in bad.items())
            problems.append(f"candidat de référence : {requirement} — {listed} (attendu : passed)"
                            + (f" — {reason}" if reason else ""))
    return problems


def judge_faulty(outcome: RunOutcome, reference: RunOutcome, automated: dict[str, list[str]]) -> list[str]:
    """The target fails; the others keep the reference verdict (declared collateral may fail)."""
    defect = outcome.run.defect
    assert defect is not None
    name = f"faulty:{defect.name}"
    problems = [f"{name} : {outcome.problem}"] if outcome.problem else []
    if defect.requirement not in automated:
        problems.append(f"{name} : son exigence cible {defect.requirement} n'a aucun scénario automatique : le "
                        "défaut ne prouve rien (écrire le scénario, ou retirer le défaut)")
    for requirement in outcome.run.requirements:
        status = outcome.verdicts.get(requirement, "absent")
        expected = reference.verdicts.get(requirement, "absent")
        if requirement == defect.requirement:
            if requirement in automated and status != "failed":
                problems.append(f"{name} : l'exigence cible {requirement} est « {status} » (attendu : failed)")
        elif requirement in defect.collateral:
            if status not in ("failed", expected):
                problems.append(f"{name} : l'exigence collatérale {requirement} est « {status} » (attendu : failed "
                                f"ou « {expected} » comme la référence)")
        elif status != expected:
            reason = outcome.reasons.get(requirement, "")
            problems.append(f"{name} : {requirement} est « {status} » alors que la référence est « {expected} » "
                            f"(échec collatéral non déclaré dans defects.yaml : collateral)"
                            + (f" — {reason}" if reason else ""))
    return problems


def undiscriminated_scenarios(automated: dict[str, list[str]], faulty: list[RunOutcome]) -> list[str]:
    """Automated scenarios that no faulty candidate made fail (their requirement is covered, not them)."""
    failed = {sc for outcome in faulty for sc, status in outcome.scenarios.items() if status == "failed"}
    return [sc for ids in automated.values() for sc in ids if sc not in failed]


# -- the whole self-test ------------------------------------------------------------------------------------
def run_selftest(
    *,
    complete: bool = False,
    jobs: int = 2,
    controls: int = 1,
    only: Iterable[str] | None = None,
    out: Path | None = None,
    progress: Callable[[RunOutcome], None] | None = None,
) -> SelftestReport:
    started = time.monotonic()
    automated = automated_requirements()
    defects = list(load_defects().values())
    if only is not None:
        wanted = set(only)
        defects = [d for d in defects if d.name in wanted]
    pending = [d.name for d in defects if d.requirement not in automated]  # nothing to break yet: not run
    defects = [d for d in defects if d.requirement in automated]
    runs = plan(defects, automated, complete=complete, controls=controls)
    workdir = out or Path(tempfile.mkdtemp(prefix="segur-mss-autotest-"))
    try:
        def execute(run: SelftestRun) -> RunOutcome:
            outcome = run_campaign(run, workdir / run.label)
            if progress:
                progress(outcome)
            return outcome

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            outcomes = list(pool.map(execute, runs))
    finally:
        if out is None:
            shutil.rmtree(workdir, ignore_errors=True)
    reference, faulty = outcomes[0], outcomes[1:]
    problems = judge_reference(reference, automated)
    for outcome in faulty:
        problems += judge_faulty(outcome, reference, automated)
    return SelftestReport(automated, reference, faulty, problems, undiscriminated_scenarios(automated, faulty),
                          time.monotonic() - started, pending)


SYMBOLS = {
    "passed": "[green]✓[/]",
    "failed": "[bold red]✗[/]",
    "error": "[yellow]E[/]",
    "not_tested": "NT",
    "awaiting_evidence": "PA",
    "not_applicable": "NA",
}
LEGEND = ("✓ conforme, ✗ non conforme, E erreur, NT non testé, PA preuve attendue, · non exécuté ; "
          "◎ exigence cible du défaut, ~ échec collatéral déclaré")


def _short(requirement: str) -> str:
    return requirement.split("/", 1)[-1]


def matrix_table(report: SelftestReport) -> Table:
    """The verdict of each candidate (rows) on each automated requirement (columns), targets marked."""
    table = Table(title="Auto-test : candidat × exigence", caption=LEGEND)
    names = ["référence", *(o.run.defect.name for o in report.faulty if o.run.defect)]
    table.add_column("Candidat", no_wrap=True, min_width=max(len(n) for n in names))
    for requirement in report.automated:
        table.add_column(_short(requirement), justify="center", no_wrap=True, min_width=len(_short(requirement)))
    table.add_column("Attentes", no_wrap=True, min_width=6)
    row = ["référence", *(SYMBOLS.get(report.reference.verdicts.get(r, ""), "?") for r in report.automated)]
    table.add_row(*row, _expectation(report, REFERENCE))
    for outcome in report.faulty:
        defect = outcome.run.defect
        assert defect is not None
        cells = []
        for requirement in report.automated:
            status = outcome.verdicts.get(requirement)
            mark = "◎" if requirement == defect.requirement else "~" if requirement in defect.collateral else ""
            cells.append(mark + (SYMBOLS.get(status, "?") if status else "·"))
        table.add_row(defect.name, *cells, _expectation(report, f"faulty:{defect.name}"))
    return table


def _expectation(report: SelftestReport, spec: str) -> str:
    prefix = "candidat de référence" if spec == REFERENCE else spec
    broken = [p for p in report.problems if p.startswith(prefix + " ")]
    return "[bold red]non tenues[/]" if broken else "[green]tenues[/]"


def print_report(report: SelftestReport, console: Console) -> None:
    table = matrix_table(report)
    # The matrix grows with the campaign: print it at the width it needs rather than squeeze the names away.
    needed = console.measure(table, options=console.options.update_width(10_000)).maximum
    console.print(table, width=max(console.width, needed), crop=False)
    runs = 1 + len(report.faulty)
    console.print(f"{runs} campagne(s), {len(report.automated)} exigence(s) automatique(s), "
                  f"{sum(len(v) for v in report.automated.values())} scénario(s) ; durée {report.duration:.1f} s")
    for outcome in report.faulty:
        defect = outcome.run.defect
        assert defect is not None
        stale = [r for r in defect.collateral if r in outcome.verdicts
                 and outcome.verdicts[r] == report.reference.verdicts.get(r)]
        if stale:
            console.print(f"[yellow]faulty:{defect.name} : collatéral déclaré mais non observé ({', '.join(stale)}) : "
                          "à retirer de defects.yaml s'il ne se produit plus[/]")
    if report.pending:
        console.print("[yellow]Candidats fautifs en attente d'un scénario automatique de leur exigence (non "
                      f"exécutés) :[/] {', '.join(report.pending)}")
    if report.undiscriminated:
        console.print("[yellow]Scénarios qu'aucun candidat fautif ne met en échec (leur exigence l'est) :[/] "
                      + ", ".join(report.undiscriminated))
    if report.problems:
        console.print(f"[bold red]Auto-test en échec ({len(report.problems)} attente(s) non tenue(s)) :[/]")
        for problem in report.problems:
            console.print(f"  - {problem}")
    else:
        console.print("[bold green]Auto-test réussi : chaque exigence automatique passe sur la référence et échoue "
                      "sur son candidat fautif, sans échec collatéral non déclaré.[/]")


def summary_of(outcome: RunOutcome) -> dict[str, Any]:
    return {"candidate": outcome.run.spec, "requirements": list(outcome.run.requirements),
            "verdicts": outcome.verdicts, "duration": round(outcome.duration, 2), "problem": outcome.problem}
