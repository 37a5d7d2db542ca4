"""The French HTML report: one self-contained file (no CDN), a summary matrix, one section per requirement.

Proofs are shown where a reviewer needs them: transcript excerpts with the redactions highlighted, the headers of
each message, validator findings as a table, screenshots embedded as `data:` URIs (the file stays linked), and a
link to every file of the evidence folder.
"""

from __future__ import annotations

import base64
import json
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from segur_mss.catalogue.model import PROVENANCE_LABELS
from segur_mss.redaction import REDACTED
from segur_mss.verdicts import STATUS_LABELS, STATUSES

TEMPLATES = Path(__file__).parent / "templates"
EXCERPT_LINES = 60
LINE_CHARS = 400
TEXT_KINDS = {"transcript", "log", "validator_report", "statement", "export"}
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
MAX_EMBEDDED_IMAGE = 5 * 1024 * 1024
MAX_FINDINGS = 200
KIND_LABELS = {
    "transcript": "transcription", "message": "courriel", "validator_report": "rapport de validation",
    "screenshot": "capture d'écran", "video": "vidéo", "export": "export", "statement": "attestation", "log": "journal",
}
SEVERITY_LABELS = {"error": "erreur", "warning": "avertissement", "info": "information"}
MODE_LABELS = {"automatique": "automatique", "observé": "observé", "attesté": "attesté"}


def _mark_redactions(text: str) -> Markup:
    """Escape, then show every redaction as a visible mark."""
    escaped = str(escape(text))
    mark = f'<mark class="expurge" title="secret retiré du dossier">{REDACTED}</mark>'
    return Markup(escaped.replace(REDACTED, mark))


def _read_lines(path: Path, limit: int) -> tuple[list[str], bool]:
    lines: list[str] = []
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for i, line in enumerate(fh):
            if i >= limit:
                return lines, True
            line = line.rstrip("\r\n")
            lines.append(line if len(line) <= LINE_CHARS else line[:LINE_CHARS] + "[…]")
    return lines, False


def _excerpt(run_dir: Path, proof: dict[str, Any]) -> Markup | None:
    """The first lines of a text proof, shown inline (the whole file stays linked)."""
    if proof.get("kind") not in TEXT_KINDS or _is_json(proof):
        return None
    try:
        lines, cut = _read_lines(run_dir / proof["path"], EXCERPT_LINES)
    except OSError:
        return Markup("[fichier de preuve introuvable]")
    return _mark_redactions("\n".join(lines + (["[… suite dans le fichier]"] if cut else [])))


def _headers(run_dir: Path, proof: dict[str, Any]) -> list[tuple[str, Markup, bool]] | None:
    """(name, value, is X-MSS-*) of a message proof's header block."""
    if proof.get("kind") != "message":
        return None
    try:
        with (run_dir / proof["path"]).open("rb") as fh:
            message = BytesHeaderParser(policy=policy.default).parse(fh)
    except OSError:
        return []
    headers = []
    for name, value in message.items():
        text = str(value)
        headers.append((name, _mark_redactions(text[:LINE_CHARS]), name.lower().startswith("x-mss-")))
    return headers


def _is_json(proof: dict[str, Any]) -> bool:
    return proof.get("media_type") == "application/json" or str(proof.get("path", "")).endswith(".json")


def _findings(run_dir: Path, proof: dict[str, Any]) -> dict[str, Any] | None:
    """A validator report (segur_mss.validators.model.ValidationReport.to_dict) ready for a table."""
    if proof.get("kind") != "validator_report" or not _is_json(proof):
        return None
    try:
        data = json.loads((run_dir / proof["path"]).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"error": "rapport de validation illisible"}
    reports = data if isinstance(data, list) else [data]
    out = []
    for report in reports:
        if not isinstance(report, dict):
            continue
        findings = [f for f in report.get("findings") or [] if isinstance(f, dict)]
        out.append({
            "validator": report.get("validator", "?"),
            "version": report.get("version", ""),
            "subject": report.get("subject", ""),
            "valid": report.get("valid"),
            "counts": report.get("counts") or {},
            "findings": findings[:MAX_FINDINGS],
            "cut": max(len(findings) - MAX_FINDINGS, 0),
        })
    return {"reports": out}


def _image(run_dir: Path, proof: dict[str, Any]) -> str | None:
    """A screenshot as a data: URI (the report stays one self-contained file)."""
    media_type = proof.get("media_type") or ""
    if media_type not in IMAGE_TYPES:
        return None
    path = run_dir / proof["path"]
    try:
        if path.stat().st_size > MAX_EMBEDDED_IMAGE:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _anchor(value: str) -> str:
    return value.replace("/", "_")


def _size(value: Any) -> str:
    try:
        size = int(value)
    except (TypeError, ValueError):
        return ""
    for unit in ("o", "Ko", "Mo", "Go"):
        if size < 1024 or unit == "Go":
            return f"{size} {unit}" if unit == "o" else f"{size:.1f} {unit}".replace(".", ",")
        size /= 1024  # type: ignore[assignment]
    return ""


_ENVIRONMENT: Environment | None = None


def _environment() -> Environment:
    """The jinja2 environment, built once per process (compiling the template costs more than rendering it)."""
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
        env.filters["anchor"] = _anchor
        env.filters["size"] = _size
        env.globals.update(
            status_label=lambda s: STATUS_LABELS.get(s, s),
            provenance_label=lambda p: PROVENANCE_LABELS.get(p, p),
            kind_label=lambda k: KIND_LABELS.get(k, k),
            severity_label=lambda s: SEVERITY_LABELS.get(s, s),
            redacted=_mark_redactions,
        )
        _ENVIRONMENT = env
    return _ENVIRONMENT


def render_report(results: dict[str, Any], run_dir: Path) -> str:
    """The HTML text of the report of `results` (proof files are read from `run_dir`)."""
    run_dir = Path(run_dir)
    requirements = results["requirements"]
    groups: dict[str, dict[str, int]] = {}
    for req in requirements:
        row = groups.setdefault(req.get("groupe") or "—", dict.fromkeys(STATUSES, 0))
        row[req["status"]] = row.get(req["status"], 0) + 1
    scenario_counts = dict.fromkeys(STATUSES, 0)
    for req in requirements:
        for sc in req["scenarios"]:
            scenario_counts[sc["status"]] = scenario_counts.get(sc["status"], 0) + 1
    files = [name for name in ("results.json", "junit.xml", "convergence.xlsx", "campagne.log")
             if (run_dir / name).exists()] + ["manifest.json"]  # the manifest is sealed after the report
    return _environment().get_template("report.html.j2").render(
        excerpt=lambda proof: _excerpt(run_dir, proof),
        headers=lambda proof: _headers(run_dir, proof),
        findings=lambda proof: _findings(run_dir, proof),
        image=lambda proof: _image(run_dir, proof),
        results=results,
        run=results["run"],
        harness=results["harness"],
        summary=results.get("summary") or {},
        statuses=STATUSES,
        groups=groups,  # in catalogue order
        scenario_counts=scenario_counts,
        files=files,
        allure=(run_dir / "allure-results").is_dir(),
        bundle=f"../{run_dir.name}.zip",
    )
