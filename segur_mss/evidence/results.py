"""Aggregation of scenario records into `results.json` (the contract of DESIGN.md)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from segur_mss import __version__
from segur_mss.catalogue import Catalogue
from segur_mss.evidence.store import load_scenario_records
from segur_mss.verdicts import ERROR, NOT_APPLICABLE, NOT_TESTED, STATUSES, combine

RUNNING = "running"


def build_results(run_dir: Path, catalogue: Catalogue, run: dict[str, Any]) -> dict[str, Any]:
    """The results document for a run folder, complete or not."""
    records = load_scenario_records(run_dir)
    by_requirement: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_requirement.setdefault(record["requirement"], []).append(record)
    selected = set(run.get("requirements_selected") or [])
    profile = run.get("profile")
    complete = bool(run.get("complete"))
    planned = {k: v for k, v in (run.get("planned") or {}).items()}

    requirements = []
    for req in catalogue:
        scenarios = [_scenario(r, complete) for r in sorted(by_requirement.get(req.id, []), key=lambda r: r["id"])]
        entry: dict[str, Any] = {
            "id": req.id,
            "title": req.titre,
            "status": NOT_TESTED,
            "reason": None,
            "groupe": req.groupe,
            "group_label": catalogue.groups.get(req.groupe, req.groupe),
            "ref2": req.ref2,
            "provenance": req.provenance,
            "summary": req.resume,
            "official_text": req.official_text,
            "source": req.source,
            "modes": list(req.modes),
            "scenarios": scenarios,
        }
        if selected and req.id not in selected:
            entry["reason"] = "exigence non retenue pour cette exécution (--requirements)"
        elif not req.applies_to(profile):
            entry["status"] = NOT_APPLICABLE
            entry["reason"] = f"exigence non applicable au profil {profile}"
        elif scenarios:
            entry["status"] = combine(s["status"] for s in scenarios) or NOT_TESTED
            missing = [sid for sid in planned.get(req.id, []) if sid not in {s["id"] for s in scenarios}]
            if missing and not complete:
                entry["reason"] = "exécution interrompue avant les scénarios " + ", ".join(missing)
                if entry["status"] not in ("failed", ERROR):
                    entry["status"] = NOT_TESTED
        elif planned.get(req.id):
            entry["reason"] = (
                "scénarios non exécutés (exécution interrompue)" if not complete else "scénarios non exécutés"
            )
        else:
            entry["reason"] = req.not_tested_reason or "aucun scénario ne couvre encore cette exigence"
        requirements.append(entry)

    counts = Counter(r["status"] for r in requirements)
    return {
        "harness": {
            "version": __version__,
            "catalogue": f"{catalogue.version} ({catalogue.digest})",
            "validators": run.get("validators") or {"cda_kit": None},
            "rem": _rem_source(),
        },
        "run": {
            "id": run.get("id"),
            "started": run.get("started"),
            "finished": run.get("finished"),
            "complete": complete,
            "candidate": run.get("candidate"),
            "profile": profile,
            "env": run.get("env", "embedded"),
            "product_reference": run.get("product_reference"),
            "requirements_selected": sorted(selected) if selected else None,
        },
        "summary": {status: counts.get(status, 0) for status in STATUSES},
        "requirements": requirements,
    }


def _rem_source() -> dict[str, Any] | None:
    """The official REM the catalogue's wording comes from, when one was imported."""
    from segur_mss.evidence.rem_import import load_overlay

    return load_overlay().get("source") or None


def _scenario(record: dict[str, Any], complete: bool) -> dict[str, Any]:
    status = record.get("status")
    reason = record.get("reason")
    if status == RUNNING or status is None:
        status = ERROR
        reason = "scénario interrompu avant son verdict" + ("" if complete else " (exécution incomplète)")
    return {
        "id": record["id"],
        "name": record["name"],
        "status": status,
        "reason": reason,
        "mode": record.get("mode"),
        "started": record.get("started"),
        "finished": record.get("finished"),
        "proofs": record.get("proofs", []),
        "failures": record.get("failures", []),
        "checks": record.get("checks", []),
        "notes": record.get("notes", []),
    }


def exit_code(results: dict[str, Any]) -> int:
    """0 when no applicable requirement failed or errored; 1 otherwise (DESIGN.md's CLI contract)."""
    statuses = {r["status"] for r in results["requirements"]}
    return 1 if statuses & {"failed", ERROR} else 0
