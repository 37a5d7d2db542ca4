"""`segur-mss report …` and the sealing step of `segur-mss run` (French for the user)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from segur_mss.evidence.bundle import BundleError, bundle_path, verify, write_bundle

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_report_parser(sub: Any) -> argparse.ArgumentParser:
    """The `report` subcommand: `report DIR` regenerates, `report verify PATH` checks a bundle or a run folder."""
    report = sub.add_parser(
        "report",
        help="régénère les rapports d'une exécution (report DIR) ou vérifie un dossier scellé (report verify CHEMIN)",
        description="report DIR : régénère report.html, junit.xml, convergence.xlsx, le manifeste et l'archive "
        "à partir de results.json/run.json et des preuves, sans relancer la campagne. "
        "report verify CHEMIN : recalcule les empreintes SHA-256 d'une archive out/<exécution>.zip ou d'un dossier "
        "d'exécution et nomme tout fichier modifié, manquant ou en trop (code 1).",
    )
    report.add_argument("target", nargs="+", metavar="[verify] CHEMIN", help="dossier d'exécution, ou verify suivi "
                        "d'une archive .zip ou d'un dossier")
    report.add_argument("--sign-key", metavar="CLE.pem", help="signe le manifeste avec cette clé privée (RSA, EC ou "
                        "Ed25519 ; mot de passe éventuel dans SEGUR_MSS_SIGN_KEY_PASSWORD)")
    report.add_argument("--cert", metavar="CERT.pem", help="(verify) certificat ou clé publique attendu du "
                        "signataire : la signature devient obligatoire")
    return report


def command_report(args: argparse.Namespace, console: Any, errors: Any) -> int:
    target = list(args.target)
    if target[0] == "verify":
        if len(target) != 2:
            errors.print("[bold red]erreur :[/] utilisation : segur-mss report verify CHEMIN (archive .zip ou "
                         "dossier d'exécution)")
            return EXIT_USAGE
        return command_verify(Path(target[1]), Path(args.cert) if args.cert else None, console, errors)
    if len(target) != 1:
        errors.print("[bold red]erreur :[/] utilisation : segur-mss report DIR ou segur-mss report verify CHEMIN")
        return EXIT_USAGE
    if args.cert:
        errors.print("[bold red]erreur :[/] --cert ne sert qu'à report verify")
        return EXIT_USAGE
    return command_regenerate(Path(target[0]), Path(args.sign_key) if args.sign_key else None, console, errors)


def command_regenerate(run_dir: Path, sign_key: Path | None, console: Any, errors: Any) -> int:
    from segur_mss.catalogue import CatalogueError
    from segur_mss.evidence.dossier import regenerate

    if not run_dir.is_dir():
        errors.print(f"[bold red]erreur :[/] {run_dir} : dossier d'exécution introuvable")
        return EXIT_USAGE
    if not (run_dir / "run.json").is_file() and not (run_dir / "results.json").is_file():
        errors.print(f"[bold red]erreur :[/] {run_dir} : ni run.json ni results.json : ce n'est pas un dossier "
                     "d'exécution segur-mss")
        return EXIT_USAGE
    try:
        regenerate(run_dir, sign_key=sign_key)
    except (BundleError, CatalogueError, ValueError, OSError) as exc:
        errors.print(f"[bold red]erreur :[/] {exc}")
        return EXIT_USAGE
    console.print(f"Rapports régénérés dans {run_dir} : report.html, junit.xml, convergence.xlsx, manifest.json")
    console.print(f"Archive scellée : {bundle_path(run_dir)}" + (" (manifeste signé)" if sign_key else ""))
    return EXIT_OK


def command_verify(path: Path, trusted: Path | None, console: Any, errors: Any) -> int:
    try:
        result = verify(path, trusted_key=trusted)
    except BundleError as exc:
        errors.print(f"[bold red]erreur :[/] {exc}")
        return EXIT_FAILED
    if result.ok:
        console.print(f"[green]Dossier intègre[/] : {path} — {result.files} fichier(s) conformes au manifeste ; "
                      f"signature : {result.signature}.")
        if result.run and not result.run.get("complete", True):
            console.print("[yellow]Attention : ce dossier est marqué incomplet (exécution interrompue).[/]")
        return EXIT_OK
    errors.print(f"[bold red]Dossier altéré[/] : {path}")
    for line in result.lines():
        errors.print(f"  - {line}")
    return EXIT_FAILED


def redact_log(run_dir: Path) -> None:
    """campagne.log is pytest's own output, written by the child process as it goes: the evidence went through the
    redactor that knows the run's secrets, the log did not. Before sealing, remove anything shaped like a secret
    (JWT, `Bearer …`, PEM private key, `access_token=…`)."""
    from segur_mss.evidence.dossier import LOG_FILE
    from segur_mss.evidence.store import atomic_write
    from segur_mss.redaction import Redactor

    path = run_dir / LOG_FILE
    if not path.is_file():
        return
    raw = path.read_bytes()
    redacted = Redactor().bytes(raw)
    if redacted != raw:
        atomic_write(path, redacted)


def seal_run(run_dir: Path, sign_key: Path | None, console: Any, errors: Any) -> Path | None:
    """After `segur-mss run`: write the manifest (signed with a key) and `out/<run>.zip`."""
    try:
        redact_log(run_dir)
        target = write_bundle(run_dir, sign_key=sign_key)
    except (BundleError, OSError) as exc:
        errors.print(f"[bold red]Archive non scellée :[/] {exc}")
        return None
    console.print(f"Archive scellée : {target}" + (" (manifeste signé)" if sign_key else ""))
    return target
