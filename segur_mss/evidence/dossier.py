"""Writing the dossier of a run: results.json and the reports, from the evidence on disk.

Called while the run goes (the dossier is always openable, marked incomplete) and once at the end.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from segur_mss.catalogue import Catalogue
from segur_mss.evidence.results import build_results
from segur_mss.evidence.store import now_iso, write_json

RUN_FILE = "run.json"
RESULTS_FILE = "results.json"
REPORT_FILE = "report.html"


def read_run(run_dir: Path) -> dict[str, Any]:
    path = run_dir / RUN_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def write_run(run_dir: Path, run: dict[str, Any]) -> None:
    write_json(run_dir / RUN_FILE, run)


def write_dossier(run_dir: Path, catalogue: Catalogue, *, final: bool = False, complete: bool | None = None) -> dict:
    """(Re)write results.json and report.html from the run's evidence."""
    from reports.html import render_report  # the report generator lives in the top-level `reports` package

    run = read_run(run_dir)
    if final:
        run["finished"] = now_iso()
        run["complete"] = bool(complete)
        write_run(run_dir, run)
    results = build_results(run_dir, catalogue, run)
    write_json(run_dir / RESULTS_FILE, results)
    (run_dir / REPORT_FILE).write_text(render_report(results, run_dir), encoding="utf-8")
    return results
