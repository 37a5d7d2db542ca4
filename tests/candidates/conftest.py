"""Helpers of the adapter tests: a scenario's evidence without a campaign, the reference campaign's verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from segur_mss.candidates.base import CandidateEnvironment
from segur_mss.evidence.store import ScenarioEvidence
from segur_mss.selftest import REFERENCE, RunOutcome, SelftestRun, run_campaign

SCENARIO = "SC.MSS/CONF.16.01"


def make_env(tmp_path: Path, **changes: Any) -> tuple[CandidateEnvironment, ScenarioEvidence]:
    """An environment for an adapter outside a campaign, with a real evidence folder."""
    evidence = ScenarioEvidence(tmp_path / "run", "SC.MSS/CONF.16", SCENARIO, "essai")
    workdir = tmp_path / "candidat"
    workdir.mkdir(exist_ok=True)
    values: dict[str, Any] = dict(
        smtp_host="127.0.0.1", smtp_port=2525, ca_bundle=tmp_path / "ca.pem", server_name="mss.test.mssante.fr",
        product_reference="SEGUR-MSS-REF-0001", workdir=workdir, scenario_id=SCENARIO, evidence=evidence,
    )
    values.update(changes)
    return CandidateEnvironment(**values), evidence


def verdicts(results: dict[str, Any]) -> dict[str, str]:
    """Requirement and scenario statuses of a run (requirements without scenarios left out)."""
    found = {}
    for req in results["requirements"]:
        if req["scenarios"]:
            found[req["id"]] = req["status"]
            found.update({sc["id"]: sc["status"] for sc in req["scenarios"]})
    return found


@pytest.fixture(scope="session")
def reference_outcome(tmp_path_factory: pytest.TempPathFactory) -> RunOutcome:
    """The whole campaign on the in-process reference candidate (what the other adapters must reproduce)."""
    out = tmp_path_factory.mktemp("reference") / "run"
    outcome = run_campaign(SelftestRun(REFERENCE, REFERENCE, ()), out)
    assert not outcome.problem, outcome.problem
    return outcome


def outcome_verdicts(outcome: RunOutcome) -> dict[str, str]:
    return {**outcome.verdicts, **outcome.scenarios}
