"""A small command line for the reference candidate, as an editor would drive a running product from a script.

    python -m segur_mss.candidates.cli_reference ACTION --entree REQUETE.json --sortie REPONSE.json --env ENV.json

Like a desktop product, the reference candidate keeps running between two commands: the first command of the
campaign starts it in the background (`serve`, in the campaign's private folder `rundir` of ENV.json, reached
through a Unix socket there); each command hands it the harness's request (`remote.py`) and writes its answer
as JSON. It keeps one candidate per scenario — its state (connected mailbox, tokens in memory only — CONF.28 —,
integrated documents, traces) lives as long as the scenario, exactly as in-process —, `close` ends the
scenario's candidate, and the product stops by itself when the campaign's folder disappears or after 5 minutes
idle. `--defaut NOM` (or SEGUR_MSS_DEFAUT) plays the faulty candidate NOM instead.

Exit codes: 0 the action was performed (its answer may still say `ok: false`, e.g. a sending the product
refused); 1 the product could not perform it; 2 a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SOCKET_NAME = "candidat-{}.sock"  # relative to the folder (chdir): no AF_UNIX path length issue
LOG_NAME = "candidat-{}.log"
START_TIMEOUT = 30.0
IDLE_TIMEOUT = 300.0
MAX_MESSAGE = 64 * 1024 * 1024


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segur-mss-candidat-reference",
        description="Candidat de référence piloté en ligne de commande (adaptateur « command » de segur-mss).",
    )
    parser.add_argument("action", help="action métier (connect_mailbox, send_message, send_document, …), close, "
                                       "ou serve (le logiciel lui-même, lancé par la première commande)")
    parser.add_argument("--entree", metavar="FICHIER", help="requête JSON écrite par le harnais")
    parser.add_argument("--sortie", metavar="FICHIER", help="réponse JSON à écrire")
    parser.add_argument("--env", required=True, metavar="FICHIER", help="paramètres de l'opérateur (JSON)")
    parser.add_argument("--defaut", default=os.environ.get("SEGUR_MSS_DEFAUT") or None, metavar="NOM",
                        help="se comporter comme le candidat fautif NOM (defects.yaml)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        env_data = json.loads(Path(args.env).read_text(encoding="utf-8"))
        home = Path(env_data.get("rundir") or env_data["workdir"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"environnement illisible ou sans « rundir » ni « workdir » : {exc}", file=sys.stderr)
        return 2
    if args.action == "serve":
        return serve(env_data, home, args.defaut)
    if not args.entree or not args.sortie:
        print("--entree et --sortie sont obligatoires", file=sys.stderr)
        return 2
    try:
        request = json.loads(Path(args.entree).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"requête illisible : {exc}", file=sys.stderr)
        return 2
    request.setdefault("environment", env_data)
    return client(args, home, request)


def _names(defect: str | None) -> tuple[str, str]:
    """Socket and log file names: one running product per campaign and per variant."""
    variant = defect or "reference"
    return SOCKET_NAME.format(variant), LOG_NAME.format(variant)


# -- the command: hands the request to the running candidate ----------------------------------------------
def client(args: argparse.Namespace, home: Path, request: dict[str, Any]) -> int:
    os.chdir(home)
    socket_name, log_name = _names(args.defaut)
    sock = _connect(socket_name)
    if sock is None:
        if args.action == "close":
            Path(args.sortie).write_text(json.dumps({"ok": True, "detail": "aucun candidat à arrêter"}), "utf-8")
            return 0
        sock = _start(args, socket_name, log_name)
        if sock is None:
            log = Path(log_name).read_text(encoding="utf-8", errors="replace")[-2000:] if Path(log_name).exists() \
                else ""
            print(f"le candidat de référence n'a pas démarré : {log}", file=sys.stderr)
            return 1
    with sock:
        sock.sendall(json.dumps({"action": args.action, "request": request}).encode("utf-8"))
        sock.shutdown(socket.SHUT_WR)
        raw = _receive(sock)
    reply = json.loads(raw) if raw else {"exit": 1, "message": "pas de réponse du candidat (arrêté ?)"}
    if reply.get("answer") is not None:
        Path(args.sortie).write_text(json.dumps(reply["answer"], ensure_ascii=False), encoding="utf-8")
    print(reply.get("message", ""), file=sys.stdout if reply.get("exit") == 0 else sys.stderr)
    return int(reply.get("exit", 1))


def _connect(socket_name: str) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(socket_name)
    except OSError:
        sock.close()
        return None
    return sock


def _start(args: argparse.Namespace, socket_name: str, log_name: str) -> socket.socket | None:
    command = [sys.executable, "-m", "segur_mss.candidates.cli_reference", "serve", "--env", str(Path(args.env))]
    if args.defaut:
        command += ["--defaut", args.defaut]
    with open(log_name, "ab") as log:  # its own session: stopping a command never stops the product
        daemon = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        sock = _connect(socket_name)
        if sock is not None:
            return sock
        if daemon.poll() is not None:
            return None
        time.sleep(0.02)
    return None


def _receive(sock: socket.socket) -> bytes:
    chunks, size = [], 0
    while chunk := sock.recv(65536):
        size += len(chunk)
        if size > MAX_MESSAGE:
            raise ValueError("message trop long")
        chunks.append(chunk)
    return b"".join(chunks)


# -- the product: the reference candidate, kept running for the campaign ---------------------------------
def serve(env_data: dict[str, Any], home: Path, defect: str | None) -> int:
    import dataclasses

    from segur_mss.candidates.faulty import FAULTY_CLASSES
    from segur_mss.candidates.reference import CandidateError, ReferenceCandidate
    from segur_mss.candidates.remote import (
        LoginTokens,
        RemoteProtocolError,
        action_label,
        dispatch,
        environment_from_json,
        from_dict,
        result_to_json,
    )

    if defect and defect not in FAULTY_CLASSES:
        print(f"défaut inconnu « {defect} » ; choix : {', '.join(sorted(FAULTY_CLASSES))}", file=sys.stderr)
        return 2
    home = home.resolve()
    os.chdir(home)
    socket_name, _ = _names(defect)
    login: dict[str, Any] = {}

    def log_in(address: str) -> LoginTokens:
        """The tokens of the user's PSC login, as the harness handed them to connect_mailbox."""
        if str(login.get("address", "")).lower() != address.lower():
            raise CandidateError(f"aucun jeton Pro Santé Connect fourni pour {address}")
        return from_dict(LoginTokens, login)

    def candidate_for(request: dict[str, Any]) -> Any:
        """One candidate per scenario, configured with that scenario's environment."""
        scenario = str(request.get("scenario", ""))
        if scenario not in candidates:
            data = request.get("environment") or env_data
            workdir = Path(data["workdir"]) if data.get("workdir") else None
            env = dataclasses.replace(environment_from_json(data, None, workdir), login=log_in)
            candidates[scenario] = (FAULTY_CLASSES[defect] if defect else ReferenceCandidate)(env)
        return candidates[scenario]

    def drop(scenario: str) -> None:
        candidate = candidates.pop(scenario, None)
        if candidate is not None:
            with contextlib.suppress(Exception):
                candidate.close()

    candidates: dict[str, Any] = {}
    who = f"candidat fautif {defect}" if defect else "candidat de référence"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(socket_name)
    server.bind(socket_name)
    server.listen(4)
    server.settimeout(1.0)
    print(f"{who} démarré (pid {os.getpid()}) dans {home}", flush=True)
    idle_until = time.monotonic() + IDLE_TIMEOUT
    try:
        while home.exists() and time.monotonic() < idle_until:
            for scenario in [s for s, c in candidates.items() if c.env.workdir and not c.env.workdir.exists()]:
                drop(scenario)  # the scenario is over even if nobody said `close`
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            idle_until = time.monotonic() + IDLE_TIMEOUT
            with conn:
                conn.settimeout(None)
                message = json.loads(_receive(conn))
                action, request = message["action"], message.get("request") or {}
                login.clear()
                login.update(request.get("login") or {})
                if action == "close":
                    drop(str(request.get("scenario", "")))
                    reply = {"exit": 0, "answer": {"ok": True, "detail": "fin du scénario"},
                             "message": f"{who} : fin du scénario {request.get('scenario', '')}"}
                else:
                    try:
                        result = dispatch(candidate_for(request), action, request.get("payload") or {})
                        ids = " ".join(result.message_ids)
                        reply = {"exit": 0, "answer": result_to_json(result),
                                 "message": f"{who} : {action_label(action)} → {'ok' if result.ok else 'refusé'} : "
                                            f"{result.detail} {ids}".rstrip()}
                    except (CandidateError, RemoteProtocolError) as exc:
                        reply = {"exit": 1, "answer": None, "message": f"{who} : échec de « {action_label(action)} » "
                                                                       f": {exc}"}
                    except Exception as exc:  # the product stays up; the harness reports the error
                        reply = {"exit": 1, "answer": None, "message": f"{who} : erreur interne pendant "
                                                                       f"« {action_label(action)} » : "
                                                                       f"{type(exc).__name__} : {exc}"}
                print(reply["message"], flush=True)
                with contextlib.suppress(OSError):  # the command may have been stopped meanwhile
                    conn.sendall(json.dumps(reply, ensure_ascii=False).encode("utf-8"))
    finally:
        for scenario in list(candidates):
            drop(scenario)
        server.close()
        with contextlib.suppress(OSError):
            os.unlink(home / socket_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
