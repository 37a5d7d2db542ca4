"""`segur-mss doctor`: pre-flight checks of the machine, each with a fix hint (French)."""

from __future__ import annotations

import importlib
import os
import shutil
import socket
import ssl
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

REQUIRED_MODULES = {
    "aiosmtpd": "serveur SMTP de l'opérateur",
    "aiosmtplib": "client SMTP du candidat de référence",
    "pymap": "serveur IMAP de l'opérateur",
    "imapclient": "client IMAP du candidat de référence",
    "joserfc": "jetons Pro Santé Connect",
    "cryptography": "PKI de test",
    "lxml": "validation CDA / IHE_XDM",
    "saxonche": "schématrons XSLT 2 du kit ANS",
    "jinja2": "rapport HTML",
    "openpyxl": "classeur Convergence",
    "pytest_bdd": "scénarios Gherkin",
}


@dataclass
class Diagnosis:
    name: str
    ok: bool
    detail: str
    hint: str = ""
    essential: bool = True


def _python() -> Diagnosis:
    ok = sys.version_info >= (3, 11)
    return Diagnosis("Python ≥ 3.11", ok, sys.version.split()[0], "installez Python 3.11 ou plus récent")


def _modules() -> list[Diagnosis]:
    found = []
    for module, role in REQUIRED_MODULES.items():
        try:
            importlib.import_module(module)
            found.append(Diagnosis(f"module {module}", True, role))
        except ImportError as exc:
            found.append(Diagnosis(f"module {module}", False, f"{role} : {exc}", "relancez « make install »"))
    return found


def _loopback() -> Diagnosis:
    try:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return Diagnosis("ports sur 127.0.0.1", True, f"port éphémère {port} disponible")
    except OSError as exc:
        return Diagnosis("ports sur 127.0.0.1", False, str(exc), "vérifiez l'interface de bouclage (lo)")


def _openssl() -> Diagnosis:
    detail = f"{ssl.OPENSSL_VERSION} ; TLS 1.3 : {'oui' if ssl.HAS_TLSv1_3 else 'non'}"
    return Diagnosis("OpenSSL", ssl.HAS_TLSv1_2, detail, "une bibliothèque OpenSSL avec TLS 1.2 est nécessaire")


def _writable(out: Path) -> Diagnosis:
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out):
            pass
        return Diagnosis("dossier de sortie", True, f"{out} accessible en écriture")
    except OSError as exc:
        return Diagnosis("dossier de sortie", False, str(exc), f"donnez les droits d'écriture sur {out} ou --out")


def _kit() -> Diagnosis:
    kit = os.environ.get("SEGUR_MSS_CDA_KIT")
    if not kit:
        return Diagnosis("kit ANS de validation CDA", True, "non configuré (règles intégrées seulement)",
                         "définissez SEGUR_MSS_CDA_KIT ou passez --kit pour la validation officielle", essential=False)
    ok = (Path(kit) / "infrastructure" / "cda" / "CDA_extended.xsd").exists()
    return Diagnosis("kit ANS de validation CDA", ok, kit,
                     "le dossier doit contenir infrastructure/cda/CDA_extended.xsd et schematrons/", essential=False)


def _tool(name: str, why: str, hint: str) -> Callable[[], Diagnosis]:
    def check() -> Diagnosis:
        path = shutil.which(name)
        return Diagnosis(f"outil {name}", bool(path), path or f"absent ({why})", hint, essential=False)

    return check


def diagnose(out: Path) -> list[Diagnosis]:
    results = [_python(), *_modules(), _loopback(), _openssl(), _writable(out), _kit()]
    results.append(_tool("chromium", "test du rapport dans un navigateur", "apt-get install chromium")())
    results.append(_tool("curl", "tests d'interopérabilité IMAP/SMTP", "apt-get install curl")())
    return results


def run_doctor(out: Path, console: Console) -> int:
    table = Table(title="Vérifications préalables segur-mss")
    for column in ("Vérification", "État", "Détail", "Correction"):
        table.add_column(column)
    diagnoses = diagnose(out)
    for d in diagnoses:
        state = "[green]OK[/]" if d.ok else ("[red]ÉCHEC[/]" if d.essential else "[yellow]facultatif[/]")
        table.add_row(d.name, state, d.detail, "" if d.ok else d.hint)
    console.print(table)
    return 0 if all(d.ok for d in diagnoses if d.essential) else 1
