"""Live progress of a campaign, read from its run folder.

The campaign runs in a child pytest process (possibly with xdist workers). Rather than parse pytest's output, the
display polls what the run writes anyway, atomically: `run.json` (the planned scenarios per requirement) and each
scenario's `scenario.json` (status `running` until its verdict). That channel works the same in serial and parallel
runs, needs no cooperation from the child, and shows exactly what the dossier will contain.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from segur_mss.evidence.store import SCENARIO_RECORD
from segur_mss.verdicts import FAILED, STATUS_LABELS

RUNNING = "running"


@dataclass
class ProgressSnapshot:
    started: bool = False
    requirements_total: int = 0
    requirements_done: int = 0
    scenarios_total: int = 0
    scenarios_done: int = 0
    running: list[str] = field(default_factory=list)  # "SC.MSS/CONF.16.01 — name"
    last: str | None = None  # last verdict, "SC.MSS/CONF.16.01 : conforme"
    failed: int = 0


def _read(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def snapshot(run_dir: Path) -> ProgressSnapshot:
    """Where the campaign of this run folder stands."""
    run_dir = Path(run_dir)
    run = _read(run_dir / "run.json")
    snap = ProgressSnapshot()
    if run is None:
        return snap
    snap.started = True
    planned: dict[str, list[str]] = run.get("planned") or {}
    records = {}
    latest: tuple[str, str] | None = None
    for path in (run_dir / "evidence").glob(f"*/*/{SCENARIO_RECORD}"):
        record = _read(path)
        if record and record.get("id"):
            records[record["id"]] = record
            status = record.get("status")
            if status and status != RUNNING and record.get("finished"):
                stamp = str(record["finished"])
                if latest is None or stamp > latest[0]:
                    latest = (stamp, f"{record['id']} : {STATUS_LABELS.get(status, status)}")
    snap.requirements_total = len(planned)
    snap.scenarios_total = sum(len(v) for v in planned.values())
    for scenario_ids in planned.values():
        done = [sid for sid in scenario_ids if records.get(sid, {}).get("status") not in (None, RUNNING)]
        snap.scenarios_done += len(done)
        if len(done) == len(scenario_ids):
            snap.requirements_done += 1
    for record in sorted(records.values(), key=lambda r: r["id"]):
        if record.get("status") == RUNNING:
            snap.running.append(f"{record['id']} — {record.get('name', '')}")
        elif record.get("status") == FAILED:
            snap.failed += 1
    snap.last = latest[1] if latest else None
    return snap


class CampaignProgress:
    """A rich live display (requirements done / total, scenarios, current scenario) fed by polling the run folder.

    Use as a context manager around the child process; on a non-interactive console only the final state is
    printed.
    """

    def __init__(self, run_dir: Path, console: Console, interval: float = 0.25) -> None:
        self.run_dir = Path(run_dir)
        self.console = console
        self.interval = interval
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=console,
        )
        self.requirements = self.progress.add_task("Exigences", total=None)
        self.scenarios = self.progress.add_task("Scénarios", total=None)
        self.current = Text("Démarrage de la campagne…")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._live: Any = None
        self.last: ProgressSnapshot = ProgressSnapshot()

    def refresh(self) -> ProgressSnapshot:
        snap = snapshot(self.run_dir)
        self.last = snap
        if snap.started:
            self.progress.update(self.requirements, total=snap.requirements_total or None,
                                 completed=snap.requirements_done)
            self.progress.update(self.scenarios, total=snap.scenarios_total or None, completed=snap.scenarios_done)
        if snap.running:
            text = "En cours : " + " ; ".join(snap.running[:4]) + (" …" if len(snap.running) > 4 else "")
        elif snap.last:
            text = f"Dernier verdict : {snap.last}"
        else:
            text = "Démarrage de la campagne…" if not snap.started else "Préparation des scénarios…"
        if snap.failed:
            text += f" — {snap.failed} scénario(s) non conforme(s)"
        self.current = Text(text)
        if self._live is not None:
            self._live.update(Group(self.progress, self.current))
        return snap

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.refresh()
            except Exception:  # the display must never break the run
                continue

    def __enter__(self) -> CampaignProgress:
        from rich.live import Live

        self._live = Live(Group(self.progress, self.current), console=self.console, refresh_per_second=8,
                          transient=False)
        self._live.__enter__()
        self._thread = threading.Thread(target=self._poll, name="segur-mss-progression", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        try:
            self.refresh()
        finally:
            self._live.__exit__(*exc)
            self._live = None
            if not self.console.is_terminal:  # the last frame ends without a newline off a terminal
                self.console.line()
