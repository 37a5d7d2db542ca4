"""The self-test: every automated scenario can pass (reference) and fail (a faulty candidate), nothing hidden.

The matrix test is parametrised over `defects.yaml`, so a new defect is checked without touching this file; the
coverage test fails for an automated scenario whose requirement no faulty candidate targets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segur_mss.candidates.faulty import FAULTY_CLASSES
from segur_mss.candidates.spec import Defect, load_defects
from segur_mss.catalogue import load_catalogue
from segur_mss.selftest import (
    REFERENCE,
    RunOutcome,
    SelftestReport,
    SelftestRun,
    automated_requirements,
    judge_faulty,
    judge_reference,
    matrix_table,
    plan,
    run_campaign,
)

from ..conftest import run_cli

DEFECTS = load_defects()
AUTOMATED = automated_requirements()


# -- static coverage ----------------------------------------------------------------------------------------
def test_every_automated_scenario_can_be_broken_by_a_faulty_candidate() -> None:
    targeted = {d.requirement for d in DEFECTS.values()}
    unbroken = {sc: req for req, ids in AUTOMATED.items() if req not in targeted for sc in ids}
    assert not unbroken, (
        "scénarios automatiques sans candidat fautif qui les met en échec (ajouter un défaut dans "
        f"segur_mss/candidates/defects.yaml et sa classe dans faulty.py) : {sorted(unbroken)}"
    )


def test_every_defect_has_a_class_and_every_class_a_defect() -> None:
    assert set(DEFECTS) == set(FAULTY_CLASSES), (
        f"sans classe : {sorted(set(DEFECTS) - set(FAULTY_CLASSES))} ; "
        f"sans entrée dans defects.yaml : {sorted(set(FAULTY_CLASSES) - set(DEFECTS))}"
    )


def test_defects_target_catalogue_requirements() -> None:
    catalogue = load_catalogue()
    for defect in DEFECTS.values():
        assert defect.requirement in catalogue, defect
        assert defect.requirement not in defect.collateral, defect
        for other in defect.collateral:
            assert other in catalogue, (defect.name, other)


# -- planning and judging -----------------------------------------------------------------------------------
def _defect(name: str, requirement: str, collateral: tuple[str, ...] = ()) -> Defect:
    return Defect(name, requirement, "…", collateral)


def test_plan_runs_target_collateral_and_rotating_controls() -> None:
    automated = {f"SC.MSS/CONF.{n}": [f"SC.MSS/CONF.{n}.01"] for n in (14, 15, 16, 21)}
    defects = [_defect("a", "SC.MSS/CONF.16"), _defect("b", "SC.MSS/CONF.16", ("SC.MSS/CONF.21",)),
               _defect("c", "SC.MSS/CONF.14")]
    runs = plan(defects, automated)
    assert runs[0] == SelftestRun(REFERENCE, REFERENCE, tuple(automated))
    assert runs[1].requirements == ("SC.MSS/CONF.16", "SC.MSS/CONF.14")
    assert runs[2].requirements == ("SC.MSS/CONF.16", "SC.MSS/CONF.21", "SC.MSS/CONF.15")
    assert runs[3].requirements[0] == "SC.MSS/CONF.14" and len(runs[3].requirements) == 2
    controls = {r for run in runs[1:] for r in run.controls}
    assert len(controls) == 3  # the controls rotate over the other requirements
    complete = plan(defects, automated, complete=True)
    assert all(set(run.requirements) == set(automated) for run in complete)


def _outcome(run: SelftestRun, **verdicts: str) -> RunOutcome:
    return RunOutcome(run, {f"SC.MSS/{k}": v for k, v in verdicts.items()})


def test_judge_declared_collateral_is_allowed_undeclared_is_reported() -> None:
    automated = {"SC.MSS/CONF.16": ["SC.MSS/CONF.16.01"], "SC.MSS/CONF.14": ["SC.MSS/CONF.14.01"]}
    reference = _outcome(SelftestRun(REFERENCE, REFERENCE, tuple(automated)), **{"CONF.16": "passed",
                                                                                 "CONF.14": "passed"})
    assert judge_reference(reference, automated) == []
    reqs = ("SC.MSS/CONF.16", "SC.MSS/CONF.14")
    declared = _defect("d", "SC.MSS/CONF.16", ("SC.MSS/CONF.14",))
    ok = _outcome(SelftestRun("d", "faulty:d", reqs, declared), **{"CONF.16": "failed", "CONF.14": "failed"})
    assert judge_faulty(ok, reference, automated) == []
    hidden = _defect("h", "SC.MSS/CONF.16")
    bad = _outcome(SelftestRun("h", "faulty:h", reqs, hidden), **{"CONF.16": "failed", "CONF.14": "failed"})
    assert any("non déclaré" in p for p in judge_faulty(bad, reference, automated))
    missed = _outcome(SelftestRun("h", "faulty:h", reqs, hidden), **{"CONF.16": "passed", "CONF.14": "passed"})
    assert any("attendu : failed" in p for p in judge_faulty(missed, reference, automated))
    report = SelftestReport(automated, reference, [ok, bad], judge_faulty(bad, reference, automated), [], 1.0)
    table = matrix_table(report)
    assert table.row_count == 3 and [c.header for c in table.columns][1:3] == ["CONF.16", "CONF.14"]


# -- the matrix, for real -----------------------------------------------------------------------------------
def test_reference_passes_every_automated_requirement(reference_outcome: RunOutcome) -> None:
    assert judge_reference(reference_outcome, AUTOMATED) == []


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_faulty_candidate_breaks_its_requirement_and_only_it(
    name: str, reference_outcome: RunOutcome, tmp_path: Path
) -> None:
    if DEFECTS[name].requirement not in AUTOMATED:
        pytest.skip(f"{name} : {DEFECTS[name].requirement} n'a pas encore de scénario automatique")
    runnable = [n for n in sorted(DEFECTS) if DEFECTS[n].requirement in AUTOMATED]
    run = plan([DEFECTS[n] for n in runnable], AUTOMATED)[1 + runnable.index(name)]
    assert run.label == name
    outcome = run_campaign(run, tmp_path / name)
    problems = judge_faulty(outcome, reference_outcome, AUTOMATED)
    assert problems == [], "\n".join(problems)


def test_selftest_command_prints_the_matrix(tmp_path: Path) -> None:
    out = tmp_path / "autotest"
    proc = run_cli("selftest", "--defauts", "no-x-mss-nil", "--out", str(out))
    summary = json.loads((out / "selftest.json").read_text(encoding="utf-8"))
    assert proc.returncode == (0 if summary["ok"] else 1), proc.stdout + proc.stderr
    assert "candidat × exigence" in proc.stdout and "no-x-mss-nil" in proc.stdout
    assert [r["candidate"] for r in summary["runs"]] == ["reference", "faulty:no-x-mss-nil"]
    assert summary["runs"][1]["verdicts"]["SC.MSS/CONF.16"] == "failed"
    bad = run_cli("selftest", "--defauts", "inconnu")
    assert bad.returncode == 2 and "candidat(s) fautif(s) inconnu(s)" in bad.stderr
