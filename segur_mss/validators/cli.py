"""``segur-mss validate cda|xdm|mail PATH [--kit DIR] [--json]``: exit 0 valid, 1 invalid, 2 unreadable input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from .cda import validate_cda
from .dsn import is_dsn, validate_dsn
from .kit import CdaKit, KitError, get_kit, resolve_kit_path
from .mail import inspect_mail, parse_message
from .mdn import is_mdn, validate_mdn
from .model import ValidationReport
from .xdm import inspect_xdm

KINDS = ("cda", "xdm", "mail")
EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2
#: Refuse to even read files larger than this (the validators have their own, lower, limits).
MAX_INPUT_BYTES = 512 * 1024 * 1024
SEVERITY_LABELS = {"error": "ERREUR", "warning": "AVERTISSEMENT", "info": "INFO"}


class ConsoleLike(Protocol):
    def print(self, *objects: Any, **kwargs: Any) -> None: ...


def _emit(console: ConsoleLike | None, text: str) -> None:
    if console is None:
        print(text)
        return
    try:
        console.print(text, markup=False, highlight=False, soft_wrap=True)
    except TypeError:  # a console without rich's keyword arguments
        console.print(text)


def _read(path: Path) -> bytes:
    if not path.exists():
        raise OSError(f"fichier introuvable : {path}")
    if path.is_dir():
        raise OSError(f"{path} est un dossier, un fichier est attendu")
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise OSError(f"{path} fait {size} octets (limite {MAX_INPUT_BYTES})")
    return path.read_bytes()


def _kit_reports_for(kit: CdaKit, documents: list[tuple[str, bytes]]) -> list[ValidationReport]:
    return [kit.validate(data, subject=name) for name, data in documents]


def validate_path(kind: str, path: Path, *, kit: Path | None = None) -> tuple[list[ValidationReport], CdaKit | None]:
    """Run the validators of ``kind`` on ``path``; raises OSError (unreadable) or KitError (unusable kit)."""
    if kind not in KINDS:
        raise ValueError(f"type de validation inconnu « {kind} » (attendu : {', '.join(KINDS)})")
    data = _read(path)
    kit_obj = get_kit(kit) if resolve_kit_path(kit) is not None else None
    reports: list[ValidationReport] = []
    if kind == "cda":
        reports.append(validate_cda(data, subject=str(path)))
        if kit_obj is not None:
            reports.append(kit_obj.validate(data, subject=str(path)))
    elif kind == "xdm":
        insp = inspect_xdm(data, subject=str(path))
        reports.append(insp.report)
        if kit_obj is not None:
            docs = [(f"{path}!{d.path}", d.data) for d in insp.documents if d.data is not None and d.codes]
            reports.extend(_kit_reports_for(kit_obj, docs))
    else:
        msg = parse_message(data)
        if is_mdn(msg):
            reports.append(validate_mdn(data, subject=str(path)))
        elif is_dsn(msg):
            reports.append(validate_dsn(data, subject=str(path)))
        else:
            insp_mail = inspect_mail(data, subject=str(path))
            reports.append(insp_mail.report)
            if kit_obj is not None:
                docs = [
                    (f"{path}!{x.report.subject}!{d.path}", d.data)
                    for x in insp_mail.xdm
                    for d in x.documents
                    if d.data is not None and d.codes
                ]
                reports.extend(_kit_reports_for(kit_obj, docs))
    return reports, kit_obj


def render_text(path: Path, reports: list[ValidationReport], kit: CdaKit | None) -> str:
    lines = [f"Fichier : {path}"]
    for report in reports:
        c = report.counts()
        verdict = "VALIDE" if report.valid else "NON VALIDE"
        lines.append("")
        lines.append(
            f"{report.validator} ({report.version}) — {report.subject} : {verdict} "
            f"({c['error']} erreur(s), {c['warning']} avertissement(s), {c['info']} info(s))"
        )
        for f in report.findings:
            where = f.location + (f" (ligne {f.line})" if f.line else "")
            req = f" [{f.requirement}]" if f.requirement else ""
            lines.append(f"  {SEVERITY_LABELS[f.severity]:<13} {f.rule_id}{req} {where}")
            lines.append(f"      {f.message}")
            if f.expected is not None or f.observed is not None:
                lines.append(
                    f"      attendu : {f.expected if f.expected is not None else '—'} ; "
                    f"observé : {f.observed if f.observed is not None else '—'}"
                )
    if kit is not None:
        ident = kit.identity
        lines.append("")
        lines.append(
            f"Kit ANS : {ident.path} (sha256 {ident.content_hash}"
            + (f", commit {ident.git_commit}" if ident.git_commit else "")
            + ")"
        )
    lines.append("")
    lines.append("Verdict : " + ("VALIDE" if all(r.valid for r in reports) else "NON VALIDE"))
    return "\n".join(lines)


def run_validate(kind: str, path: Path, *, kit: Path | None, as_json: bool, console: ConsoleLike | None) -> int:
    """CLI entry: print the verdict (text or JSON); 0 valid, 1 invalid, 2 unreadable input or unusable kit."""
    path = Path(path)
    try:
        reports, kit_obj = validate_path(kind, path, kit=kit)
    except OSError as exc:
        detail = exc.strerror if exc.strerror and exc.filename else str(exc)
        _emit(console, f"Erreur : impossible de lire « {path} » : {detail}.")
        return EXIT_UNREADABLE
    except KitError as exc:
        _emit(console, f"Erreur : kit CDA inutilisable : {exc}")
        return EXIT_UNREADABLE
    except ValueError as exc:
        _emit(console, f"Erreur : {exc}.")
        return EXIT_UNREADABLE
    valid = all(r.valid for r in reports)
    if as_json:
        doc = {
            "file": str(path),
            "kind": kind,
            "valid": valid,
            "kit": kit_obj.identity.to_dict() if kit_obj is not None else None,
            "reports": [r.to_dict() for r in reports],
        }
        _emit(console, json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        _emit(console, render_text(path, reports, kit_obj))
    return EXIT_VALID if valid else EXIT_INVALID


__all__ = ["KINDS", "render_text", "run_validate", "validate_path"]
