"""Command adapter: the candidate file, one command per action, and candidates that hang, crash or flood."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from segur_mss.candidates.base import Action, OutgoingMessage, require
from segur_mss.candidates.command import CommandCandidate, CommandFileError, load_command_file
from segur_mss.candidates.reference import CandidateError, ReferenceCandidate
from segur_mss.candidates.spec import CandidateSpecError, parse_candidate_spec
from segur_mss.verdicts import NotTested

from ..conftest import ROOT, load_results, requirement, run_cli
from .conftest import make_env, outcome_verdicts, verdicts

EXAMPLE = ROOT / "examples" / "candidat-commande.toml"
CONF16 = "SC.MSS/CONF.16"
ANSWER_OK = """echo '{{"ok": true, "detail": "fait"}}' > {output}"""


def write_toml(tmp_path: Path, text: str, name: str = "candidat.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the candidate file -------------------------------------------------------------------------------------
def test_example_file_is_valid_and_declares_its_actions() -> None:
    spec = load_command_file(EXAMPLE)
    assert {Action.CONNECT_MAILBOX, Action.SEND_MESSAGE, Action.SEND_DOCUMENT} <= spec.capabilities()
    assert spec.actions["connect_mailbox"].timeout == 15
    assert spec.actions["send_message"].timeout == 30
    assert isinstance(spec.actions["send_document"].command, tuple)
    assert "close" in spec.actions and Action.ATTEST not in spec.capabilities()


def test_example_drives_every_action_of_the_reference_candidate(tmp_path: Path) -> None:
    env, _ = make_env(tmp_path)
    missing = ReferenceCandidate(env).capabilities() - load_command_file(EXAMPLE).capabilities()
    assert not missing, ("ajoutez une entrée [actions.<nom>] à examples/candidat-commande.toml pour : "
                         + ", ".join(sorted(missing)))


@pytest.mark.parametrize(
    ("text", "place", "rule"),
    [
        ("[candidat\nnom = 1", "ligne 1", "syntaxe TOML invalide"),
        ("[actions.envoyer_fax]\ncommande = 'x'", "[actions.envoyer_fax]", "action inconnue"),
        ("[actions.send_message]\ncommande = 'x {entree}'", "[actions.send_message] commande", "emplacement {entree}"),
        ("[actions.send_message]\ncommande = 'x'\ndelai = -1", "[actions.send_message] delai", "nombre de secondes"),
        ("[actions.send_message]\ndelai = 3", "[actions.send_message] commande", "une commande"),
        ("[actions.send_message]\ncommande = 'x'\ntimeout = 3", "[actions.send_message] timeout", "clé inconnue"),
        ("[candidat]\nnom = 'x'", "[actions]", "au moins une action"),
        ("[candidat]\nsortie_max = 10\n[actions.send_message]\ncommande = 'x'", "[candidat] sortie_max", "octets"),
        ("[produit]\nx = 1", "[produit]", "section inconnue"),
    ],
)
def test_bad_candidate_file_names_file_place_and_rule(tmp_path: Path, text: str, place: str, rule: str) -> None:
    path = write_toml(tmp_path, text)
    with pytest.raises(CommandFileError) as caught:
        load_command_file(path)
    message = str(caught.value)
    assert str(path) in message and place in message and rule in message


def test_cli_refuses_a_bad_candidate_file_with_exit_2(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[actions.send_message]\ncommande = 'x {sortie}'\n")
    proc = run_cli("run", "--candidate", f"command:{path}", "--out", str(tmp_path / "run"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    flat = "".join(proc.stderr.split())  # rich wraps long lines, even inside a path
    assert "".join(str(path).split()) in flat and "[actions.send_message]commande" in flat
    assert "emplacement{sortie}inconnu" in flat
    missing = run_cli("run", "--candidate", "command:absent.toml", "--out", str(tmp_path / "run2"))
    assert missing.returncode == 2 and "fichier introuvable" in missing.stderr


def test_spec_resolves_the_file_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_toml(tmp_path, f"[actions.send_message]\ncommande = {json.dumps(ANSWER_OK)}\n")
    monkeypatch.chdir(tmp_path)
    spec = parse_candidate_spec("command:candidat.toml")
    assert spec.value == str(tmp_path / "candidat.toml")
    with pytest.raises(CandidateSpecError):
        parse_candidate_spec("command:")


# -- one command per action ---------------------------------------------------------------------------------
def test_absent_action_is_not_tested(tmp_path: Path) -> None:
    env, _ = make_env(tmp_path)
    candidate = CommandCandidate(env, load_command_file(write_toml(
        tmp_path, f"[actions.send_message]\ncommande = {json.dumps(ANSWER_OK)}\n")))
    assert candidate.capabilities() == {Action.SEND_MESSAGE}
    with pytest.raises(NotTested, match="envoyer un document CDA"):
        require(candidate, Action.SEND_DOCUMENT)
    candidate.close()


def test_request_answer_session_proofs_and_log(tmp_path: Path) -> None:
    script = tmp_path / "produit.py"
    script.write_text(
        "import json, os, sys\n"
        "request = json.load(open(sys.argv[1]))\n"
        "env = json.load(open(os.environ['SEGUR_MSS_ENV']))\n"
        "count = (request['session'] or {}).get('count', 0) + 1\n"
        "export = os.path.join(os.environ['SEGUR_MSS_WORKDIR'], 'traces.csv')\n"
        "open(export, 'w').write('date;action\\n')\n"
        "print('journal du produit', request['action'], request['payload'].get('subject'))\n"
        "json.dump({'ok': True, 'detail': 'fait', 'message_ids': ['<1@x>'],\n"
        "           'data': {'smtp_port': env['smtp']['port'], 'port_var': os.environ['SEGUR_MSS_SMTP_PORT'],\n"
        "                    'extra': os.environ['MON_PRODUIT']},\n"
        "           'session': {'count': count}, 'proofs': [{'kind': 'export', 'path': export}]},\n"
        "          open(sys.argv[2], 'w'))\n",
        encoding="utf-8",
    )
    path = write_toml(tmp_path, (
        "[candidat]\nnom = 'mon produit'\n[candidat.environnement]\nMON_PRODUIT = 'oui'\n"
        "[actions.send_message]\ncommande = ['{python}', '" + str(script) + "', '{input}', '{output}']\n"
        "[actions.export_traces]\ncommande = \"{python} " + str(script) + " {input} {output}\"\n"))
    env, evidence = make_env(tmp_path)
    candidate = CommandCandidate(env, load_command_file(path))
    result = candidate.send_message(OutgoingMessage(to=("a@test.mssante.fr",), subject="Bonjour", body="…"))
    assert result.ok and result.message_ids == ["<1@x>"]
    assert result.data == {"smtp_port": 2525, "port_var": "2525", "extra": "oui"}
    # an action that is not a method of the adapter: generic, no adapter code
    candidate.export_traces(since="2025-01-01")  # type: ignore[attr-defined]
    assert candidate.session == {"count": 2}
    kinds = [p.kind for p in evidence.proofs]
    assert kinds == ["log", "export", "log", "export"]
    log = (evidence.run_dir / evidence.proofs[0].path).read_text(encoding="utf-8")
    assert "journal du produit send_message Bonjour" in log and "fin : code 0" in log
    assert '"subject": "Bonjour"' in log
    candidate.close()
    assert not candidate.scratch.exists()


def test_tokens_never_reach_the_evidence_in_clear(tmp_path: Path) -> None:
    class Tokens:
        access_token = "jeton-secret-0123456789"
        refresh_token = "rafraichissement-secret-0123456789"
        expires_in = 120

    env, evidence = make_env(tmp_path, login=lambda address: Tokens())
    path = write_toml(tmp_path, f"[actions.connect_mailbox]\ncommande = {json.dumps(ANSWER_OK)}\n")
    candidate = CommandCandidate(env, load_command_file(path))
    assert candidate.connect_mailbox("a@test.mssante.fr").ok
    log = (evidence.run_dir / evidence.proofs[0].path).read_text(encoding="utf-8")
    assert "jeton-secret" not in log and "rafraichissement-secret" not in log and "[EXPURGÉ]" in log
    candidate.close()


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("sleep 30 & sleep 30; wait", "a dépassé son délai de 1 s"),
        ("echo 'plantage du produit' >&2; exit 3", "s'est terminée avec le code 3 : plantage du produit"),
        ("head -c 5000000 /dev/zero | tr '\\\\0' x", "a écrit plus de 65536 octets"),
        ("echo pas du json > {output}", "n'est pas du JSON valide"),
        ("true", "n'a pas écrit sa réponse JSON"),
        ("echo '{{\"detail\": 1}}' > {output}", "la clé « ok » (true/false) est obligatoire"),
    ],
    ids=["hangs", "crashes", "floods", "bad-json", "no-answer", "bad-answer"],
)
def test_misbehaving_command_is_an_error_with_its_reason(tmp_path: Path, command: str, reason: str) -> None:
    path = write_toml(tmp_path, f"[candidat]\nsortie_max = 65536\n[actions.send_message]\n"
                                f"commande = {json.dumps(command)}\ndelai = 1\n")
    env, evidence = make_env(tmp_path)
    candidate = CommandCandidate(env, load_command_file(path))
    started = time.monotonic()
    with pytest.raises(CandidateError) as caught:
        candidate.send_message(OutgoingMessage(to=("a@test.mssante.fr",), subject="s", body="b"))
    assert time.monotonic() - started < 10
    assert reason in str(caught.value)
    assert evidence.proofs and evidence.proofs[0].kind == "log"
    assert evidence.proofs[0].size < 200_000  # a flood is kept as head and tail only
    candidate.close()


# -- campaigns through the command adapter ------------------------------------------------------------------
def test_full_campaign_through_the_command_adapter_matches_the_reference(tmp_path: Path, reference_outcome) -> None:
    out = tmp_path / "run"
    proc = run_cli("run", "--candidate", f"command:{EXAMPLE}", "--out", str(out))
    results = load_results(out)
    assert verdicts(results) == outcome_verdicts(reference_outcome), (out / "campagne.log").read_text()
    assert proc.returncode == (1 if {"failed", "error"} & set(reference_outcome.verdicts.values()) else 0)
    conf16 = requirement(results, CONF16)
    assert conf16["status"] == "passed"
    kinds = {p["kind"] for sc in conf16["scenarios"] for p in sc["proofs"]}
    assert {"log", "message", "transcript"} <= kinds


def test_faulty_variant_through_the_command_adapter_fails_like_in_process(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        '# SEGUR_MSS_DEFAUT = "no-x-mss-nil"', 'SEGUR_MSS_DEFAUT = "no-x-mss-nil"')
    assert 'SEGUR_MSS_DEFAUT = "no-x-mss-nil"\n' in text
    path = write_toml(tmp_path, text, "fautif.toml")
    out = tmp_path / "run"
    proc = run_cli("run", "--candidate", f"command:{path}", "--requirements", CONF16, "--out", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    conf16 = requirement(load_results(out), CONF16)
    assert conf16["status"] == "failed"
    assert conf16["scenarios"] and all(sc["status"] == "failed" for sc in conf16["scenarios"])
    failures = [f for sc in conf16["scenarios"] for f in sc["failures"]]
    assert failures and all(f["observed"] == "en-tête X-MSS-NIL absent" for f in failures)


def test_hanging_crashing_and_flooding_candidates_do_not_hang_the_run(tmp_path: Path) -> None:
    path = write_toml(tmp_path, (
        "[candidat]\nsortie_max = 100000\n"
        f"[actions.connect_mailbox]\ncommande = {json.dumps(ANSWER_OK)}\n"
        "[actions.send_message]\ncommande = 'sleep 60'\ndelai = 2\n"
        "[actions.send_document]\ncommande = \"echo 'le produit a planté' >&2; exit 1\"\n"))
    out = tmp_path / "run"
    started = time.monotonic()
    proc = run_cli("run", "--candidate", f"command:{path}", "--requirements", CONF16, "--out", str(out), timeout=120)
    assert time.monotonic() - started < 90
    assert proc.returncode == 1, proc.stdout + proc.stderr
    results = load_results(out)
    assert results["run"]["complete"] is True and (out / "report.html").exists()
    conf16 = requirement(results, CONF16)
    assert conf16["status"] == "error"
    reasons = {sc["id"]: sc["reason"] for sc in conf16["scenarios"]}
    assert "a dépassé son délai de 2 s" in reasons["SC.MSS/CONF.16.01"]
    assert "code 1 : le produit a planté" in reasons["SC.MSS/CONF.16.02"]
    for sc in conf16["scenarios"]:
        logs = [p for p in sc["proofs"] if p["kind"] == "log"]
        assert logs, sc["id"]


def test_flooding_candidate_is_stopped(tmp_path: Path) -> None:
    path = write_toml(tmp_path, (
        "[candidat]\nsortie_max = 100000\n"
        f"[actions.connect_mailbox]\ncommande = {json.dumps(ANSWER_OK)}\n"
        "[actions.send_message]\ncommande = \"yes 'inondation' | head -c 50000000\"\ndelai = 20\n"))
    out = tmp_path / "run"
    proc = run_cli("run", "--candidate", f"command:{path}", "--requirements", CONF16, "--out", str(out))
    assert proc.returncode == 1
    conf16 = requirement(load_results(out), CONF16)
    reasons = {sc["id"]: sc["reason"] or "" for sc in conf16["scenarios"]}
    assert "a écrit plus de 100000 octets" in reasons["SC.MSS/CONF.16.01"]
    assert conf16["status"] == "error"
    # send_document is absent from the file: that scenario is not tested, with the reason
    assert "ne sait pas" in reasons["SC.MSS/CONF.16.02"]
