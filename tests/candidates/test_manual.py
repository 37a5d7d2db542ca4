"""Manual adapter: French instructions as data, a visible countdown, attested proofs, answers prepared ahead."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from segur_mss.candidates.answers import AnswersError, load_answers
from segur_mss.candidates.base import (
    Action,
    DocumentSending,
    EvidenceRequest,
    OutgoingMessage,
    require_attestation,
)
from segur_mss.candidates.manual import Instructions, ManualCandidate
from segur_mss.candidates.reference import ReferenceCandidate
from segur_mss.verdicts import AwaitingEvidence

from ..conftest import ROOT, load_results, requirement
from .conftest import SCENARIO, make_env

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # a (tiny) screenshot


class ScriptedTerminal:
    """A person scripted ahead: what they type at each poll (None: nothing yet), and their answers."""

    def __init__(self, polls: list[str | None] | None = None, answers: list[str] | None = None) -> None:
        self.buffer = io.StringIO()
        self.console = Console(file=self.buffer, force_terminal=True, width=140, highlight=False)
        self.polls = list(polls or [])
        self.answers = list(answers or [])
        self.prompts: list[str] = []
        self.now = 0.0
        self.closed = False

    def clock(self) -> float:
        return self.now

    def poll_line(self, timeout: float) -> str | None:
        self.now += timeout  # time passes while the person does not type
        return self.polls.pop(0) if self.polls else None

    def ask(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return self.answers.pop(0)

    def close(self) -> None:
        self.closed = True

    @property
    def output(self) -> str:
        return self.buffer.getvalue()


class Arrivals:
    """The operator's count of submissions: a mail arrives after `after` looks."""

    def __init__(self, after: int) -> None:
        self.after, self.looks = after, 0

    def __call__(self) -> int:
        self.looks += 1
        return 1 if self.looks > self.after else 0


@pytest.fixture
def answers_file(tmp_path: Path) -> Path:
    (tmp_path / "captures").mkdir()
    (tmp_path / "captures" / "a-propos.png").write_bytes(PNG)
    (tmp_path / "traces.csv").write_text("date;action\n", encoding="utf-8")
    path = tmp_path / "reponses.yaml"
    path.write_text(
        f"scenarios:\n"
        f"  {SCENARIO}:\n"
        f"    declaration: \"Le logiciel affiche la référence SEGUR-MSS-REF-0001.\"\n"
        f"    fichiers:\n"
        f"      - {{chemin: captures/a-propos.png, type: screenshot, titre: \"Écran À propos\"}}\n"
        f"    demandes:\n"
        f"      export-traces:\n"
        f"        fichiers: [{{chemin: traces.csv, type: export}}]\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(autouse=True)
def _no_timeout_override(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("SEGUR_MSS_MANUEL_DELAI", raising=False)
    monkeypatch.delenv("SEGUR_MSS_ANSWERS", raising=False)
    yield


def manual(tmp_path: Path, terminal: ScriptedTerminal | None, arrivals: Arrivals | None = None, answers=None):
    env, evidence = make_env(tmp_path, submissions_seen=arrivals)
    candidate = ManualCandidate(env, terminal=terminal, answers=answers,
                                clock=terminal.clock if terminal else lambda: 0.0)
    return candidate, evidence


# -- instructions -------------------------------------------------------------------------------------------
def test_every_action_has_an_instruction_and_known_ones_render_completely(tmp_path: Path) -> None:
    instructions = Instructions.load()
    env, _ = make_env(tmp_path)
    samples = {
        "connect_mailbox": {"address": "claire.martin@test.mssante.fr"},
        "send_message": {"to": ["paul.durand@test.mssante.fr"], "subject": "Avis", "body": "Bonjour",
                         "read_receipt": True},
        "send_document": {"to": ["paul.durand@test.mssante.fr"], "patient": "qualifie", "doc_types": ["CR-BIO"],
                          "to_patient": True, "end_of_exchange": True, "read_receipt": False},
        "write_to_patient": {"patient": "qualifie", "subject": "Votre compte rendu", "body": "Bonjour",
                             "end_of_exchange": False},
        "ensure_local_patient": {"patient": "qualifie", "ins": "285057505612338"},
        "import_manually": {"item": "attente-0001", "patient": "qualifie"},
    }
    for action in Action:
        payload = samples.get(action.value, {"critere": "valeur"})
        text = instructions.for_action(action.value, instructions.context(action.value, payload, env)).text
        assert text.strip() and "{" not in text, (action, text)
    document = instructions.for_action("send_document", instructions.context(
        "send_document", samples["send_document"], env)).text
    assert "SEGUR-TEST CAMILLE MARIE" in document and "INS qualifiée" in document
    assert "Mon espace santé" in document and "fin d'échange" in document and "accusé de lecture" not in document
    unknown = instructions.for_action("action_future", instructions.context("action_future", {"x": 1}, env)).text
    assert "« action_future »" in unknown and "x : 1" in unknown


# -- interactive session ------------------------------------------------------------------------------------
def test_sending_waits_with_a_countdown_until_the_mail_arrives(tmp_path: Path) -> None:
    terminal = ScriptedTerminal()
    candidate, evidence = manual(tmp_path, terminal, Arrivals(after=4))
    result = candidate.send_document(DocumentSending(to=("paul.durand@test.mssante.fr",), patient="qualifie",
                                                     to_patient=True, end_of_exchange=True))
    assert result.ok and "courriel reçu par l'opérateur" in result.detail
    out = terminal.output
    assert "Envoyez maintenant" in out and "paul.durand@test.mssante.fr" in out and "SEGUR-TEST" in out
    assert "⏳" in out and "en attente" in out
    assert [p.kind for p in evidence.proofs] == ["log"]
    log = (evidence.run_dir / evidence.proofs[0].path).read_text(encoding="utf-8")
    assert "consigne donnée" in log and "courriel reçu" in log
    candidate.close()
    assert terminal.closed


def test_enter_ends_the_wait_and_the_steps_judge(tmp_path: Path) -> None:
    terminal = ScriptedTerminal(polls=[None, None, ""])
    candidate, _ = manual(tmp_path, terminal, Arrivals(after=10**6))
    result = candidate.connect_mailbox("claire.martin@test.mssante.fr")
    assert result.ok and "confirmé" in result.detail
    assert "claire.martin@test.mssante.fr" in terminal.output


def test_countdown_expires(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGUR_MSS_MANUEL_DELAI", "2")
    terminal = ScriptedTerminal()
    candidate, _ = manual(tmp_path, terminal, Arrivals(after=10**6))
    result = candidate.send_message(OutgoingMessage(to=("paul.durand@test.mssante.fr",), subject="s", body="b"))
    assert not result.ok and "délai de 2 s écoulé sans courriel reçu" in result.detail


def test_generic_actions_need_no_adapter_code(tmp_path: Path) -> None:
    terminal = ScriptedTerminal(polls=[""])
    candidate, _ = manual(tmp_path, terminal)
    assert candidate.fetch_new_mail().ok  # type: ignore[attr-defined]
    assert "Relevez maintenant la boîte aux lettres" in terminal.output


def test_attestation_from_prepared_answers_is_stored_and_hashed(tmp_path: Path, answers_file: Path) -> None:
    terminal = ScriptedTerminal(answers=[""])  # Enter: use the prepared answers
    candidate, evidence = manual(tmp_path, terminal, answers=load_answers(answers_file))
    request = EvidenceRequest("a-propos", "Montrez l'écran « À propos » du logiciel", ("screenshot",))
    result = require_attestation(candidate, request)
    assert result.ok and result.data["statement"] == "Le logiciel affiche la référence SEGUR-MSS-REF-0001."
    kinds = [p.kind for p in evidence.proofs]
    assert kinds == ["screenshot", "statement"]
    shot = evidence.proofs[0]
    assert shot.sha256 == hashlib.sha256(PNG).hexdigest() and shot.media_type == "image/png"
    assert (evidence.run_dir / shot.path).read_bytes() == PNG
    statement = (evidence.run_dir / evidence.proofs[1].path).read_text(encoding="utf-8")
    assert "SEGUR-MSS-REF-0001" in statement and shot.sha256 in statement and "réponses préparées" in statement
    assert result.data["proofs"] == [p.id for p in evidence.proofs]


def test_attestation_typed_by_the_person(tmp_path: Path) -> None:
    video = tmp_path / "session.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    terminal = ScriptedTerminal(answers=[str(video), "video", "", "oui"])
    candidate, evidence = manual(tmp_path, terminal)
    request = EvidenceRequest("session", "Filmez l'envoi", ("screenshot", "video"),
                              statement="Le logiciel n'a pas proposé d'envoyer au patient.")
    result = candidate.attest(request)
    assert result.ok and [p.kind for p in evidence.proofs] == ["video", "statement"]
    assert "Attestez-vous" in terminal.prompts[-1]


def test_a_request_key_gets_its_own_prepared_answer(tmp_path: Path, answers_file: Path) -> None:
    terminal = ScriptedTerminal(answers=["o"])
    candidate, evidence = manual(tmp_path, terminal, answers=load_answers(answers_file))
    candidate.attest(EvidenceRequest("export-traces", "Exportez les traces", ("export",)))
    assert [p.kind for p in evidence.proofs] == ["export", "statement"]


# -- non-interactive runs -----------------------------------------------------------------------------------
def test_non_interactive_actions_await_evidence(tmp_path: Path) -> None:
    candidate, evidence = manual(tmp_path, None)
    with pytest.raises(AwaitingEvidence, match="session manuelle"):
        candidate.connect_mailbox("claire.martin@test.mssante.fr")
    assert [p.kind for p in evidence.proofs] == ["log"]  # the instruction is kept for the person


def test_non_interactive_attestation_stores_prepared_files_but_still_awaits(tmp_path: Path) -> None:
    (tmp_path / "capture.png").write_bytes(PNG)
    path = tmp_path / "reponses.toml"
    path.write_text(f'[scenarios."{SCENARIO}"]\ndeclaration = "Vu."\n'
                    f'[[scenarios."{SCENARIO}".fichiers]]\nchemin = "capture.png"\ntype = "screenshot"\n',
                    encoding="utf-8")
    candidate, evidence = manual(tmp_path, None, answers=load_answers(path))
    with pytest.raises(AwaitingEvidence, match=r"2 preuve\(s\) préparée\(s\) jointe\(s\), à confirmer"):
        candidate.attest(EvidenceRequest("capture", "Montrez l'écran", ("screenshot",)))
    assert [p.kind for p in evidence.proofs] == ["screenshot", "statement"]


def test_automated_candidates_leave_attested_proofs_awaiting(tmp_path: Path) -> None:
    env, _ = make_env(tmp_path)
    with pytest.raises(AwaitingEvidence, match="--candidate manual"):
        require_attestation(ReferenceCandidate(env), EvidenceRequest("x", "Montrez l'écran"))


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("scenarios:\n  SC.MSS/CONF.99.01: {declaration: x}\n", "scenarios.SC.MSS/CONF.99.01"),
        (f"scenarios:\n  {SCENARIO}:\n    fichiers: [{{chemin: absent.png}}]\n", "fichiers[1].chemin"),
        (f"scenarios:\n  {SCENARIO}:\n    fichiers: [{{chemin: r.yaml, type: photo}}]\n", "fichiers[1].type"),
        (f"scenarios:\n  {SCENARIO}:\n    commentaire: x\n", f"scenarios.{SCENARIO}.commentaire"),
        ("scenarios: [\n", "fichier"),
    ],
)
def test_bad_answers_file_names_file_and_place(tmp_path: Path, text: str, place: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AnswersError) as caught:
        load_answers(path)
    assert str(path) in str(caught.value) and place in str(caught.value)


# -- the campaign with --candidate manual -------------------------------------------------------------------
def _run_manual(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CI="true")
    return subprocess.run([sys.executable, "-m", "segur_mss.cli", "run", "--candidate", "manual", *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=env, start_new_session=True,
                          stdin=subprocess.DEVNULL)


def test_manual_campaign_in_ci_awaits_evidence_never_passes(tmp_path: Path, answers_file: Path) -> None:
    out = tmp_path / "run"
    proc = _run_manual(tmp_path, "--requirements", "SC.MSS/CONF.16", "--answers", str(answers_file),
                       "--out", str(out))
    results = load_results(out)
    conf16 = requirement(results, "SC.MSS/CONF.16")
    assert conf16["status"] == "awaiting_evidence", proc.stdout + proc.stderr
    assert {sc["status"] for sc in conf16["scenarios"]} == {"awaiting_evidence"}
    assert all("CI=true" in sc["reason"] for sc in conf16["scenarios"])
    assert results["summary"]["passed"] == 0
    proofs = [p for sc in conf16["scenarios"] for p in sc["proofs"]]
    assert proofs and all(p["kind"] == "log" for p in proofs)
    assert "Configurez le logiciel" in (out / proofs[0]["path"]).read_text(encoding="utf-8")
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["candidate"] == "manual"


def test_bad_answers_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("scenarios:\n  SC.MSS/CONF.99.01: {declaration: x}\n", encoding="utf-8")
    proc = _run_manual(tmp_path, "--answers", str(path), "--out", str(tmp_path / "run"))
    assert proc.returncode == 2 and "numéro de scénario inconnu" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform != "linux", reason="pseudo-terminal Linux requis")
def test_interactive_session_in_a_terminal(tmp_path: Path) -> None:
    """A person at a terminal: instructions and countdowns on /dev/tty, Enter ends each wait, the steps judge."""
    import pty
    import re
    import select
    import time

    out = tmp_path / "run"
    pid, fd = pty.fork()
    if pid == 0:  # the person's terminal runs segur-mss
        env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_XDIST_WORKER")}
        env.update(COLUMNS="120", SEGUR_MSS_MANUEL_DELAI="30")
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "segur_mss.cli", "run", "--candidate", "manual",
                                   "--requirements", "SC.MSS/CONF.16", "--out", str(out)], env)
    screen, pressed, deadline = b"", 0, time.monotonic() + 120
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
        panels = len(re.findall(rb"SC\.MSS/CONF\.16\.0\d \xe2\x80\x94 ", screen))
        if panels > pressed:  # a new instruction is on screen
            os.write(fd, b"\n")  # the person presses Enter (without sending anything)
            pressed += 1
    _, status = os.waitpid(pid, 0)
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", screen.decode("utf-8", "replace"))
    assert "Configurez le logiciel" in text and "Envoyez maintenant" in text and "⏳" in text, text[-2000:]
    assert "confirmé par la personne" in text
    assert os.waitstatus_to_exitcode(status) == 1
    conf16 = requirement(load_results(out), "SC.MSS/CONF.16")
    assert conf16["status"] == "failed"  # nothing reached the operator: the steps judge, as for any candidate
    assert {f["observed"] for sc in conf16["scenarios"] for f in sc["failures"]} == {"0"}
