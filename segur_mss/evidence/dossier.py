"""Writing the dossier of a run: results.json and the reports, from the evidence on disk.

Called while the run goes (results.json + report.html: the dossier is always openable, marked incomplete) and once
at the end (`final=True`: also junit.xml, convergence.xlsx, then the manifest and the bundle `out/<run>.zip`).
`regenerate` rebuilds every report of a finished run from its JSON and evidence, without rerunning.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from segur_mss.catalogue import Catalogue, load_catalogue
from segur_mss.evidence.junit import JUNIT_FILE, write_junit
from segur_mss.evidence.results import build_results
from segur_mss.evidence.store import atomic_write, now_iso, write_json

RUN_FILE = "run.json"
RESULTS_FILE = "results.json"
REPORT_FILE = "report.html"
WORKBOOK_FILE = "convergence.xlsx"
LOG_FILE = "campagne.log"
#: Set by `segur-mss run` in the child pytest: the CLI seals the bundle itself once the child's log is closed.
DEFER_BUNDLE_ENV = "SEGUR_MSS_DEFER_BUNDLE"


def read_run(run_dir: Path) -> dict[str, Any]:
    path = run_dir / RUN_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def write_run(run_dir: Path, run: dict[str, Any]) -> None:
    write_json(run_dir / RUN_FILE, run)


def write_reports(run_dir: Path, results: dict[str, Any], *, catalogue: Catalogue | None = None,
                  all_formats: bool = True) -> None:
    """report.html always; junit.xml and convergence.xlsx with `all_formats`."""
    from reports.html import render_report  # the report generator lives in the top-level `reports` package

    if all_formats:
        from segur_mss.evidence.workbook import write_workbook

        write_junit(results, run_dir / JUNIT_FILE)
        write_workbook(results, run_dir / WORKBOOK_FILE, catalogue)
    atomic_write(run_dir / REPORT_FILE, render_report(results, run_dir).encode("utf-8"))  # last: it links the others


def write_dossier(
    run_dir: Path,
    catalogue: Catalogue,
    *,
    final: bool = False,
    complete: bool | None = None,
    bundle: bool | None = None,
    sign_key: Path | None = None,
) -> dict:
    """(Re)write results.json and report.html from the run's evidence; with `final`, every format and the bundle.

    `bundle=None` seals the bundle at the end unless the CLI said it will (DEFER_BUNDLE_ENV).
    """
    run = read_run(run_dir)
    if final:
        run["finished"] = now_iso()
        run["complete"] = bool(complete)
        write_run(run_dir, run)
    results = build_results(run_dir, catalogue, run)
    if run.get("versions"):
        results["harness"].setdefault("tools", run["versions"])
    write_json(run_dir / RESULTS_FILE, results)
    write_reports(run_dir, results, catalogue=catalogue, all_formats=final)
    if final and (bundle if bundle is not None else os.environ.get(DEFER_BUNDLE_ENV) != "1"):
        from segur_mss.evidence.bundle import write_bundle

        write_bundle(run_dir, sign_key=sign_key)
    return results


def regenerate(run_dir: Path, *, catalogue: Catalogue | None = None, sign_key: Path | None = None,
               bundle: bool = True) -> dict[str, Any]:
    """`segur-mss report DIR`: every report again from the run's JSON and evidence (with the current catalogue,
    e.g. after importing the official REM); the run's own facts (dates, completeness) are kept.
    """
    run_dir = Path(run_dir)
    catalogue = catalogue or load_catalogue()
    run = read_run(run_dir)
    if run:
        results = build_results(run_dir, catalogue, run)
        if run.get("versions"):
            results["harness"].setdefault("tools", run["versions"])
        write_json(run_dir / RESULTS_FILE, results)
    else:  # only results.json: render it as it is
        results = json.loads((run_dir / RESULTS_FILE).read_text(encoding="utf-8"))
    write_reports(run_dir, results, catalogue=catalogue, all_formats=True)
    if bundle:
        from segur_mss.evidence.bundle import write_bundle

        write_bundle(run_dir, sign_key=sign_key)
    return results
