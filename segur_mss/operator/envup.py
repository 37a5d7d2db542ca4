"""`segur-mss env up`: start the reference operator for people testing a product by hand, print (in French) every
parameter a candidate needs, write them to `DIR/env.json`, and stay up until Ctrl-C (SIGINT) or SIGTERM.

`env.json` is written last, atomically, once every server listens, and exists only while the operator runs: a
clean stop renames it `env.precedent.json` (a stale one left by a crash is removed at start). A script may wait for
`env.json` to appear. It holds the test client secret: it is created 0600.
Restarted on the same folder and address, the operator takes back the previous ports and PSC client secret when
they are free (a product configured by hand keeps working); otherwise it takes new ephemeral ports.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from segur_mss.operator.service import OperatorSettings, ReferenceOperator

ENV_FILE = "env.json"
PREVIOUS_FILE = "env.precedent.json"
EXIT_OK = 0
EXIT_CONFIG = 2
BAL_TYPES = {"PER": "personnelle", "ORG": "organisationnelle", "APP": "applicative", "PATIENT": "patient"}


class _PlainConsole:
    def print(self, text: str = "") -> None:
        print(text, flush=True)


def _say(console: Any, text: str = "") -> None:
    """Print one line, without rich markup interpretation (paths and secrets may contain brackets)."""
    try:
        console.print(text, markup=False, highlight=False, soft_wrap=True)
    except TypeError:  # not a rich Console
        console.print(text)
    with contextlib.suppress(Exception):
        sys.stdout.flush()


def write_env(out: Path, env: dict[str, Any]) -> Path:
    """Write `env.json` atomically (0600: it carries the test client secret)."""
    target = out / ENV_FILE
    tmp = out / ".env.json.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(env, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return target


def previous_settings(out: Path, bind: str) -> dict[str, Any]:
    """Ports and client secret of the last `env up` in `out` on the same address (empty when unusable)."""
    source = out / ENV_FILE if (out / ENV_FILE).exists() else out / PREVIOUS_FILE  # env.json: after a crash
    try:
        old = json.loads(source.read_text(encoding="utf-8"))
        if old["smtp"]["host"] != bind:
            return {}
        ports = {f"{name}_port": int(old[name]["port"]) for name in ("smtp", "imap", "imaps", "smtps") if name in old}
        extra = {
            "https_port": urlsplit(old["psc"]["issuer"]).port or 0,
            "crl_port": urlsplit(old["crl"]["url"]).port or 0,
            "psc_client_secret": str(old["psc"]["client_secret"]),
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {"ports": ports, "extra": extra}


def _operator(out: Path, bind: str, previous: dict[str, Any]) -> ReferenceOperator:
    extra: dict[str, Any] = {"psc_ciba_auto_approve": True} | previous.get("extra", {})
    settings = OperatorSettings(bind=bind, extra=extra)
    for name, port in previous.get("ports", {}).items():
        if hasattr(settings, name):
            setattr(settings, name, port)
    return ReferenceOperator(out, settings)


def describe(env: dict[str, Any], env_path: Path) -> list[str]:
    """The French summary printed for the person at the keyboard."""
    psc, lines = env.get("psc", {}), []
    lines += [
        "Opérateur MSSanté de référence démarré (environnement de test segur-mss).",
        "",
        "Serveurs de messagerie (API LPS) :",
        f"  IMAP  : {env['imap']['host']} port {env['imap']['port']} (TLS : {env['imap']['tls']})"
        + ("" if env["imap"]["port"] else " — non démarré"),
        f"  SMTP  : {env['smtp']['host']} port {env['smtp']['port']} (TLS : {env['smtp']['tls']})",
    ]
    for name, label in (("imaps", "IMAPS"), ("smtps", "SMTPS")):
        if env.get(name, {}).get("port"):
            lines.append(f"  {label} : {env[name]['host']} port {env[name]['port']} (TLS implicite)")
    lines += [
        f"  Nom du serveur dans les certificats : {env.get('server_name', '')}",
        f"  Autorité de confiance (IGC-Santé de test) : {env['ca_bundle']}",
        "",
        "Pro Santé Connect (simulé) :",
        f"  Émetteur (issuer) : {psc.get('issuer', '')}",
        f"  Découverte OIDC   : {psc.get('discovery', '')}",
        f"  client_id         : {psc.get('client_id', '')}",
        f"  client_secret     : {psc.get('client_secret', '')}",
        "  Flux : code d'autorisation + PKCE (S256), CIBA (mode poll), jeton de rafraîchissement",
        "  Validation CIBA automatique pour les professionnels de test : "
        + ("oui" if psc.get("ciba_auto_approve") else "non"),
        f"  Durée de vie des jetons d'accès : {psc.get('access_token_lifetime', '?')} s",
        "",
        f"Annuaire santé (FHIR R4) : {env.get('directory', {}).get('url', '')}",
        f"Auto-configuration       : {env.get('autoconfig', {}).get('mozilla', '')}",
        f"Liste de révocation (LCR): {env.get('crl', {}).get('url', '')}",
        "",
        "Boîtes aux lettres de test :",
    ]
    for box in env.get("mailboxes", []):
        kind = BAL_TYPES.get(box["type"], box["type"])
        line = f"  {box['address']} — BAL {kind} ({box['type']})"
        if box.get("login_hint"):
            line += f", professionnel (login_hint) : {box['login_hint']}"
        lines.append(line)
        if box.get("certificate"):
            lines.append(f"      certificat client : {box['certificate']}")
            lines.append(f"      clé privée        : {box['key']}")
    lines += [
        f"  Patients : <INS>@{env.get('patient_domain', 'patient.mssante.fr')}",
        "",
        f"Paramètres écrits dans {env_path}",
        "Appuyez sur Ctrl-C pour arrêter l'opérateur.",
    ]
    return lines


def _start(out: Path, bind: str, console: Any) -> ReferenceOperator | None:
    """Start on the previous session's ports when free, else on new ones; None (message said) when impossible."""
    previous = previous_settings(out, bind)
    with contextlib.suppress(FileNotFoundError):
        (out / ENV_FILE).unlink()
    for attempt in (previous, {}) if previous else ({},):
        operator = _operator(out, bind, attempt)
        try:
            return operator.start()
        except OSError as exc:
            operator.stop()
            if attempt:
                _say(console, "Ports de la session précédente indisponibles : nouveaux ports attribués.")
                continue
            _say(console, f"Impossible de démarrer l'opérateur sur l'adresse {bind} : {exc.strerror or exc}")
    return None


def run_env_up(out: Path, bind: str, console: Any) -> int:
    """Start the operator, describe it, write `out/env.json`, wait for SIGINT/SIGTERM, stop cleanly."""
    console = console if console is not None else _PlainConsole()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    saved_handlers: dict[int, Any] = {}

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):  # first: a Ctrl-C during start-up also ends cleanly
        with contextlib.suppress(ValueError):  # not the main thread: Ctrl-C then arrives as KeyboardInterrupt
            saved_handlers[sig] = signal.signal(sig, on_signal)
    try:
        operator = _start(out, bind, console)
        if operator is None:
            return EXIT_CONFIG
        try:
            env = operator.env()
            path = write_env(out, env)
            for line in describe(env, path):
                _say(console, line)
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            _say(console, "")
            _say(console, "Arrêt de l'opérateur…")
            operator.stop()
            with contextlib.suppress(FileNotFoundError):
                os.replace(out / ENV_FILE, out / PREVIOUS_FILE)
    finally:
        for sig, handler in saved_handlers.items():
            signal.signal(sig, handler)
    _say(console, f"Opérateur arrêté proprement (paramètres de la session conservés dans {out / PREVIOUS_FILE}).")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """`python -m segur_mss.operator.envup [--out DIR] [--bind ADDR]` (the CLI wires the same function)."""
    parser = argparse.ArgumentParser(prog="segur-mss env up", description="Démarre l'opérateur de référence.")
    parser.add_argument("--out", type=Path, default=Path("out/env"), help="dossier de env.json et des enregistrements")
    parser.add_argument("--bind", default="127.0.0.1", help="adresse d'écoute (127.0.0.1 par défaut)")
    args = parser.parse_args(argv)
    try:
        from rich.console import Console

        console: Any = Console()
    except ImportError:  # pragma: no cover
        console = _PlainConsole()
    return run_env_up(args.out, args.bind, console)


if __name__ == "__main__":
    sys.exit(main())
