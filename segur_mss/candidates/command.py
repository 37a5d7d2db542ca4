"""Command adapter (`--candidate command:FICHIER.toml`): each business action is a command of the product.

The TOML file maps actions to command templates (see `examples/candidat-commande.toml`, which drives the
reference candidate through its small CLI). For each action the harness writes the request as JSON
(`remote.py`), runs the command with a timeout, reads the answer back as JSON, and keeps the command line,
exit code, duration, stdout and stderr as a `log` proof of the scenario. A command that hangs, crashes or floods
its output is stopped: the scenario is `error` with the reason, the campaign goes on.

Placeholders of a template: {input} (request JSON), {output} (answer JSON to write), {env} (the operator's
parameters as JSON), {workdir} (a private folder kept for the scenario), {rundir} (a private folder kept for
the whole campaign: a product started by a command may live there across scenarios; it is removed at the end of
the campaign), {action}, {scenario}, {python} (the
harness's Python), {config_dir} (the TOML file's folder). In a string template they are shell-quoted and the
string runs through /bin/sh; in a list template (argv) they are inserted as they are, without a shell.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segur_mss.candidates.base import Action, CandidateEnvironment
from segur_mss.candidates.reference import CandidateError
from segur_mss.candidates.remote import CLOSE, RemoteCandidate, action_label, environment_json, known_actions
from segur_mss.redaction import REDACTOR

PLACEHOLDERS = ("input", "output", "env", "workdir", "rundir", "action", "scenario", "python", "config_dir")
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_OUTPUT = 1024 * 1024  # bytes of stdout + stderr (and of the answer file)
EXCERPT = 16 * 1024  # bytes of each stream kept in the log proof (head and tail)
CLOSE_TIMEOUT = 10.0


class CommandFileError(ValueError):
    """The candidate's TOML file is not usable: names the file, the place and the rule (in French)."""

    def __init__(self, path: Path | str, place: str, rule: str) -> None:
        super().__init__(f"{path} : {place} : {rule}")
        self.path, self.place, self.rule = str(path), place, rule


@dataclass(frozen=True)
class CommandAction:
    name: str
    command: str | tuple[str, ...]
    timeout: float


@dataclass(frozen=True)
class CommandCandidateFile:
    """A parsed and checked candidate file."""

    path: Path
    name: str
    directory: Path
    timeout: float
    max_output: int
    environment: dict[str, str] = field(default_factory=dict)
    actions: dict[str, CommandAction] = field(default_factory=dict)

    def capabilities(self) -> frozenset[Action]:
        return frozenset(Action(name) for name in self.actions if name != CLOSE)


# -- loading ------------------------------------------------------------------------------------------------
def load_command_file(path: Path | str) -> CommandCandidateFile:
    """Read and check a candidate file; every problem is a `CommandFileError` (file, place, rule)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CommandFileError(path, "fichier", "fichier introuvable") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandFileError(path, "fichier", f"fichier illisible ({exc})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        place = f"ligne {found.group(1)}, colonne {found.group(2)}" if found else "fichier"
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise CommandFileError(path, place, f"syntaxe TOML invalide ({message})") from exc
    allowed_top = {"candidat", "actions"}
    for key in data:
        if key not in allowed_top:
            raise CommandFileError(path, f"[{key}]", "section inconnue ; sections possibles : [candidat], [actions.*]")
    head = _table(path, data, "candidat")
    for key in head:
        if key not in ("nom", "repertoire", "delai", "sortie_max", "environnement"):
            raise CommandFileError(path, f"[candidat] {key}", "clé inconnue ; clés possibles : nom, repertoire, "
                                                               "delai, sortie_max, environnement")
    name = head.get("nom", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise CommandFileError(path, "[candidat] nom", "une chaîne non vide est attendue")
    directory = path.resolve().parent
    if "repertoire" in head:
        if not isinstance(head["repertoire"], str):
            raise CommandFileError(path, "[candidat] repertoire", "un chemin (chaîne) est attendu")
        directory = (directory / head["repertoire"]).resolve()
        if not directory.is_dir():
            raise CommandFileError(path, "[candidat] repertoire", f"dossier introuvable : {directory}")
    timeout = _seconds(path, "[candidat] delai", head.get("delai", DEFAULT_TIMEOUT))
    max_output = head.get("sortie_max", DEFAULT_MAX_OUTPUT)
    if not isinstance(max_output, int) or isinstance(max_output, bool) or max_output < 1024:
        raise CommandFileError(path, "[candidat] sortie_max", "un nombre d'octets entier (1024 au moins) est attendu")
    environment = _table(path, head, "environnement", "[candidat.environnement]")
    for key, value in environment.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) or not isinstance(value, str | int | float):
            raise CommandFileError(path, f"[candidat.environnement] {key}",
                                   "un nom de variable d'environnement et une valeur simple sont attendus")
    actions_table = _table(path, data, "actions")
    if not actions_table:
        raise CommandFileError(path, "[actions]", "au moins une action est attendue ; actions possibles : "
                                                  + ", ".join(known_actions()))
    actions: dict[str, CommandAction] = {}
    for action, spec in actions_table.items():
        place = f"[actions.{action}]"
        if action not in known_actions() and action != CLOSE:
            raise CommandFileError(path, place, "action inconnue ; actions possibles : "
                                   + ", ".join((*known_actions(), CLOSE)))
        if not isinstance(spec, dict):
            raise CommandFileError(path, place, "une table avec la clé « commande » est attendue")
        for key in spec:
            if key not in ("commande", "delai"):
                raise CommandFileError(path, f"{place} {key}", "clé inconnue ; clés possibles : commande, delai")
        actions[action] = CommandAction(
            action,
            _template(path, f"{place} commande", spec.get("commande")),
            _seconds(path, f"{place} delai", spec.get("delai", timeout)),
        )
    return CommandCandidateFile(
        path=path.resolve(),
        name=name.strip(),
        directory=directory,
        timeout=timeout,
        max_output=max_output,
        environment={k: str(v) for k, v in environment.items()},
        actions=actions,
    )


def _table(path: Path, data: dict[str, Any], key: str, place: str | None = None) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise CommandFileError(path, place or f"[{key}]", "une table est attendue")
    return value


def _seconds(path: Path, place: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
        raise CommandFileError(path, place, "un nombre de secondes entre 0 et 3600 est attendu")
    return float(value)


def _template(path: Path, place: str, value: Any) -> str | tuple[str, ...]:
    if isinstance(value, str) and value.strip():
        parts: list[str] = [value]
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        parts = list(value)
    else:
        raise CommandFileError(path, place, "une commande (chaîne, ou liste d'arguments non vide) est attendue")
    for part in parts:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(part) if f is not None]
        except ValueError as exc:
            raise CommandFileError(path, place, f"gabarit invalide ({exc}) ; doublez les accolades littérales") \
                from exc
        for name in fields:
            if name not in PLACEHOLDERS:
                raise CommandFileError(path, place, f"emplacement {{{name}}} inconnu ; emplacements possibles : "
                                       + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS))
    return value if isinstance(value, str) else tuple(parts)


# -- running ------------------------------------------------------------------------------------------------
@dataclass
class CommandRun:
    """What happened when a command ran."""

    argv: list[str]
    returncode: int | None
    duration: float
    stdout: bytes
    stderr: bytes
    stdout_size: int
    stderr_size: int
    timed_out: bool = False
    flooded: bool = False


def run_command(
    argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float, max_output: int, scratch: Path
) -> CommandRun:
    """Run `argv` in its own process group; stop it on timeout or when it writes more than `max_output` bytes.

    Output goes to files (never pipes: a flood cannot block the harness), of which head and tail are kept.
    """
    out_path, err_path = scratch / "stdout", scratch / "stderr"
    started = time.monotonic()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True)
        except OSError as exc:
            raise CandidateError(f"impossible de lancer la commande {argv[0]} : {exc}") from exc
        timed_out = flooded = False
        while True:
            try:
                proc.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() - started > timeout:
                timed_out = True
            elif _size(out_path) + _size(err_path) > max_output:
                flooded = True
            if timed_out or flooded:
                _stop_group(proc)
                break
    duration = time.monotonic() - started
    flooded = flooded or (not timed_out and _size(out_path) + _size(err_path) > max_output)
    return CommandRun(argv, None if (timed_out or flooded) else proc.returncode, duration,
                      _excerpt(out_path), _excerpt(err_path), _size(out_path), _size(err_path), timed_out, flooded)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM then SIGKILL to the command's own process group (the shell and what it started)."""
    for sig, grace in ((signal.SIGTERM, 1.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _excerpt(path: Path) -> bytes:
    size = _size(path)
    with path.open("rb") as fh:
        if size <= 2 * EXCERPT:
            return fh.read()
        head = fh.read(EXCERPT)
        fh.seek(size - EXCERPT)
        tail = fh.read()
    return head + f"\n[… {size - 2 * EXCERPT} octets omis …]\n".encode() + tail


# -- the adapter --------------------------------------------------------------------------------------------
_RUN_DIRECTORY: Path | None = None


def run_directory() -> Path:
    """A private folder for the whole campaign (this process), removed when it ends."""
    global _RUN_DIRECTORY
    if _RUN_DIRECTORY is None or not _RUN_DIRECTORY.exists():
        _RUN_DIRECTORY = Path(tempfile.mkdtemp(prefix="segur-mss-execution-"))
        atexit.register(shutil.rmtree, _RUN_DIRECTORY, True)
    return _RUN_DIRECTORY


class CommandCandidate(RemoteCandidate):
    """Drives a product through the commands of its TOML file (one process per action)."""

    def __init__(self, env: CandidateEnvironment, spec: CommandCandidateFile, name: str | None = None) -> None:
        super().__init__(env, name or f"command:{spec.path}")
        self.spec = spec
        self._runs = 0
        base = env.workdir if env.workdir else None
        self.scratch = Path(tempfile.mkdtemp(prefix="segur-mss-commande-", dir=base))
        self.workdir = self.scratch / "travail"
        self.workdir.mkdir(mode=0o700)
        self.env_file = self.scratch / "env.json"
        env_data = environment_json(env)
        env_data["workdir"] = str(self.workdir)
        env_data["rundir"] = str(run_directory())
        self._env_data = env_data
        self.env_file.write_text(json.dumps(env_data, ensure_ascii=False, indent=2), encoding="utf-8")

    def capabilities(self) -> frozenset[Action]:
        return self.spec.capabilities()

    def exchange(self, action: str, request: dict[str, Any]) -> dict[str, Any]:
        spec = self.spec.actions.get(action)
        if spec is None:
            raise CandidateError(f"le fichier {self.spec.path} ne décrit pas l'action « {action_label(action)} »")
        return self._run(spec, request)

    def close(self) -> None:
        try:
            spec = self.spec.actions.get(CLOSE)
            # The scenario's verdict is already known: a failing close only shows in its log proof.
            if spec is not None:
                with contextlib.suppress(CandidateError):
                    self._run(spec, {"action": CLOSE, "scenario": self.env.scenario_id, "payload": {},
                                     "session": self.session}, answer_required=False)
        finally:
            super().close()
            shutil.rmtree(self.scratch, ignore_errors=True)

    # -- one command --------------------------------------------------------------------------------------
    def _run(self, spec: CommandAction, request: dict[str, Any], answer_required: bool = True) -> dict[str, Any]:
        self._runs += 1
        call = self._runs
        folder = self.scratch / f"appel-{call:03d}-{spec.name}"
        folder.mkdir(mode=0o700)
        input_path, output_path = folder / "entree.json", folder / "sortie.json"
        request = dict(request, environment=self._env_data)
        input_path.write_text(json.dumps(request, ensure_ascii=False, indent=2), encoding="utf-8")
        input_path.chmod(0o600)
        values = {
            "input": str(input_path),
            "output": str(output_path),
            "env": str(self.env_file),
            "workdir": str(self.workdir),
            "rundir": self._env_data["rundir"],
            "action": spec.name,
            "scenario": self.env.scenario_id,
            "python": sys.executable,
            "config_dir": str(self.spec.path.parent),
        }
        if isinstance(spec.command, str):
            argv = ["/bin/sh", "-c", spec.command.format_map({k: shlex.quote(v) for k, v in values.items()})]
        else:
            argv = [part.format_map(values) for part in spec.command]
        child_env = dict(os.environ)
        child_env.update(self.spec.environment)
        child_env.update(self._variables(values))
        run = run_command(argv, cwd=self.spec.directory, env=child_env, timeout=spec.timeout,
                          max_output=self.spec.max_output, scratch=folder)
        answer_text, problem = self._read_answer(output_path, run, spec, answer_required)
        self._log(call, spec, request, run, answer_text, problem)
        with contextlib.suppress(OSError):
            input_path.unlink()  # the request may hold tokens: it does not outlive the call
        if problem:
            raise CandidateError(problem)
        if not answer_required and answer_text is None:
            return {"ok": True}
        return json.loads(answer_text or "null")

    def _variables(self, values: dict[str, str]) -> dict[str, str]:
        env = self.env
        return {
            "SEGUR_MSS_ACTION": values["action"],
            "SEGUR_MSS_INPUT": values["input"],
            "SEGUR_MSS_OUTPUT": values["output"],
            "SEGUR_MSS_ENV": values["env"],
            "SEGUR_MSS_WORKDIR": values["workdir"],
            "SEGUR_MSS_RUNDIR": values["rundir"],
            "SEGUR_MSS_SCENARIO": values["scenario"],
            "SEGUR_MSS_SMTP_HOST": env.smtp_host,
            "SEGUR_MSS_SMTP_PORT": str(env.smtp_port),
            "SEGUR_MSS_IMAP_HOST": env.imap_host,
            "SEGUR_MSS_IMAP_PORT": str(env.imap_port),
            "SEGUR_MSS_CA_BUNDLE": str(env.ca_bundle),
            "SEGUR_MSS_SERVER_NAME": env.server_name,
            "SEGUR_MSS_PRODUCT_REFERENCE": env.product_reference,
        }

    def _read_answer(
        self, output_path: Path, run: CommandRun, spec: CommandAction, required: bool
    ) -> tuple[str | None, str | None]:
        label = action_label(spec.name)
        if run.timed_out:
            return None, (f"l'action « {label} » a dépassé son délai de {spec.timeout:g} s : commande arrêtée "
                          f"(le candidat ne répond pas)")
        if run.flooded:
            return None, (f"l'action « {label} » a écrit plus de {self.spec.max_output} octets sur sa sortie : "
                          "commande arrêtée (sortie_max)")
        if run.returncode != 0:
            tail = _last_line(run.stderr) or _last_line(run.stdout)
            return None, (f"la commande de l'action « {label} » s'est terminée avec le code {run.returncode}"
                          + (f" : {tail}" if tail else ""))
        if not output_path.exists():
            if not required:
                return None, None
            return None, f"la commande de l'action « {label} » n'a pas écrit sa réponse JSON ({{output}})"
        if output_path.stat().st_size > self.spec.max_output:
            return None, f"la réponse JSON de l'action « {label} » dépasse {self.spec.max_output} octets"
        text = output_path.read_text(encoding="utf-8", errors="replace")
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            return text, f"la réponse de l'action « {label} » n'est pas du JSON valide ({exc})"
        return text, None

    def _log(self, call: int, spec: CommandAction, request: dict[str, Any], run: CommandRun,
             answer: str | None, problem: str | None) -> None:
        shown = dict(request)
        shown.pop("environment", None)
        status = ("délai dépassé" if run.timed_out else "sortie trop abondante" if run.flooded
                  else f"code {run.returncode}")
        lines = [
            f"action : {spec.name} ({action_label(spec.name)})",
            f"scénario : {self.env.scenario_id}",
            f"commande : {shlex.join(run.argv)}",
            f"répertoire : {self.spec.directory}",
            f"délai : {spec.timeout:g} s ; durée : {run.duration:.2f} s ; fin : {status}",
            f"résultat : {problem or 'réponse lue'}",
            "",
            "--- requête (entrée JSON) ---",
            json.dumps(shown, ensure_ascii=False, indent=2),
            "",
            "--- réponse (sortie JSON) ---",
            answer if answer is not None else "(aucune)",
            "",
            f"--- sortie standard ({run.stdout_size} octets) ---",
            run.stdout.decode("utf-8", "replace"),
            f"--- sortie d'erreur ({run.stderr_size} octets) ---",
            run.stderr.decode("utf-8", "replace"),
        ]
        self.add_proof("log", f"commande-{call:02d}-{spec.name}.log", REDACTOR.text("\n".join(lines)),
                       f"journal de la commande du candidat : {action_label(spec.name)}")


def _last_line(data: bytes) -> str:
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
