"""The French HTML report: one self-contained file (no CDN), a summary matrix, one section per requirement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from segur_mss.catalogue.model import PROVENANCE_LABELS
from segur_mss.verdicts import STATUS_LABELS, STATUSES

TEMPLATES = Path(__file__).parent / "templates"
EXCERPT_LINES = 60
TEXT_KINDS = {"transcript", "log", "validator_report", "statement", "export"}


def _excerpt(run_dir: Path, proof: dict[str, Any]) -> str | None:
    """The first lines of a text proof, shown inline (the whole file stays linked)."""
    if proof.get("kind") not in TEXT_KINDS and proof.get("kind") != "message":
        return None
    path = run_dir / proof["path"]
    try:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            lines = []
            for i, line in enumerate(fh):
                if i >= EXCERPT_LINES:
                    lines.append("[…]")
                    break
                lines.append(line.rstrip("\n")[:400])
    except OSError:
        return "[fichier de preuve introuvable]"
    return "\n".join(lines)


def render_report(results: dict[str, Any], run_dir: Path) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    env.globals.update(
        status_label=lambda s: STATUS_LABELS.get(s, s),
        provenance_label=lambda p: PROVENANCE_LABELS.get(p, p),
        excerpt=lambda proof: _excerpt(run_dir, proof),
    )
    groups: dict[str, int] = {}
    for req in results["requirements"]:
        groups[req["groupe"]] = groups.get(req["groupe"], 0) + 1
    return env.get_template("report.html.j2").render(
        results=results,
        run=results["run"],
        harness=results["harness"],
        statuses=STATUSES,
        groups=sorted(groups),
    )
