"""JUnit XML from results.json: one testsuite per requirement, one testcase per scenario.

The requirement is a property of its testsuite and of every testcase, so a CI dashboard can group by it.
`failed` becomes <failure> (expected vs observed), `error` <error>, and the statuses that are not verdicts
(`not_applicable`, `awaiting_evidence`, `not_tested`) become <skipped> with the French reason.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from typing import Any

from segur_mss.evidence.store import atomic_write
from segur_mss.verdicts import ERROR, FAILED, PASSED, STATUS_LABELS

JUNIT_FILE = "junit.xml"


def _seconds(start: str | None, end: str | None) -> float:
    try:
        started = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        finished = datetime.fromisoformat(str(end).replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    return max((finished - started).total_seconds(), 0.0)


def _properties(parent: ET.Element, values: dict[str, Any]) -> None:
    props = ET.SubElement(parent, "properties")
    for name, value in values.items():
        if value is not None:
            ET.SubElement(props, "property", name=name, value=str(value))


def _clean(text: Any) -> str:
    """XML 1.0 cannot carry most control characters: replace them."""
    return "".join(c if c in "\t\n\r" or ord(c) >= 0x20 else "\ufffd" for c in str(text))


def junit_tree(results: dict[str, Any]) -> ET.ElementTree:
    run = results["run"]
    root = ET.Element("testsuites", name=f"segur-mss {run.get('id') or ''}".strip())
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for req in results["requirements"]:
        if not req["scenarios"]:
            continue
        suite = ET.SubElement(root, "testsuite", name=req["id"])
        _properties(suite, {
            "requirement": req["id"],
            "requirement_title": req.get("title"),
            "requirement_status": req["status"],
            "requirement_statut": STATUS_LABELS.get(req["status"], req["status"]),
            "provenance": req.get("provenance"),
            "candidate": run.get("candidate"),
            "profile": run.get("profile"),
            "run": run.get("id"),
            "complete": str(run.get("complete")).lower(),
        })
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
        for sc in req["scenarios"]:
            seconds = _seconds(sc.get("started"), sc.get("finished"))
            case = ET.SubElement(suite, "testcase", classname=req["id"], name=_clean(f"{sc['id']} — {sc['name']}"),
                                 time=f"{seconds:.3f}")
            _properties(case, {
                "requirement": req["id"],
                "scenario": sc["id"],
                "status": sc["status"],
                "statut": STATUS_LABELS.get(sc["status"], sc["status"]),
                "mode": sc.get("mode"),
            })
            counts["tests"] += 1
            counts["time"] += seconds
            status = sc["status"]
            if status == FAILED:
                counts["failures"] += 1
                lines = [f"{f['check']} — attendu : {f['expected']} ; observé : {f['observed']}"
                         for f in sc["failures"]]
                message = lines[0] if lines else (sc.get("reason") or "non conforme")
                node = ET.SubElement(case, "failure", message=_clean(message), type="non conforme")
                node.text = _clean("\n".join(lines) or sc.get("reason") or "")
            elif status == ERROR:
                counts["errors"] += 1
                node = ET.SubElement(case, "error", message=_clean(sc.get("reason") or "erreur"), type="erreur")
                node.text = _clean(sc.get("reason") or "")
            elif status != PASSED:
                counts["skipped"] += 1
                label = STATUS_LABELS.get(status, status)
                ET.SubElement(case, "skipped", message=_clean(f"{label} : {sc.get('reason') or ''}".rstrip(" :")))
            if sc["proofs"]:
                out = ET.SubElement(case, "system-out")
                out.text = _clean("\n".join(f"{p['id']} {p['kind']} {p['path']} sha256={p['sha256']}"
                                            for p in sc["proofs"]))
        for key, value in counts.items():
            suite.set(key, f"{value:.3f}" if key == "time" else str(value))
            totals[key] += value
        if run.get("started"):
            suite.set("timestamp", str(run["started"]))
    for key, value in totals.items():
        root.set(key, f"{value:.3f}" if key == "time" else str(value))
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(results: dict[str, Any], path: Path) -> Path:
    """Write the JUnit XML of a run (atomically)."""
    tree = junit_tree(results)
    data = ET.tostring(tree.getroot(), encoding="utf-8", xml_declaration=True) + b"\n"
    atomic_write(path, data)
    return path
