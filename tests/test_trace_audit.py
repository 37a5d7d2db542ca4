"""Reading and judging a candidate's trace export (segur_mss/trace_audit.py): the documented shape, an editor's
export mapped through `[traces]`, matching each processing of the sequence, fields and content checks."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from segur_mss.config import ConfigError, load_config
from segur_mss.trace_audit import (
    ExpectedEvent,
    TraceExportError,
    TraceMapping,
    content_leaks,
    match_events,
    parse_export,
    read_rows,
    record_problems,
    retention_days,
)

NOW = dt.datetime.now().astimezone()
STAMP = NOW.isoformat(timespec="milliseconds")
AUTHOR = {"bal": "claire.martin@test.mssante.fr", "professionnel": "81000000011"}
EVENTS = [
    ExpectedEvent("consultation", "consultation", "consultation", "<a@x>"),
    ExpectedEvent("integration", "intégration", "integration", "<a@x>"),
    ExpectedEvent("envoi", "envoi", "envoi", "<s@x>"),
    ExpectedEvent("envoi-echoue", "envoi refusé", "envoi", failure=True, server_reply="550 5.1.1 Unknown mailbox"),
    ExpectedEvent("suppression", "suppression", "suppression", "<a@x>"),
]


def _row(action: str, status: str = "succes", message_id: str = "", response: str = "OK", **extra) -> dict:
    return {"horodatage": STAMP, "auteur": AUTHOR, "action": action, "statut": status, "requete": "UID FETCH 1",
            "reponse": response, **({"message_id": message_id} if message_id else {}), **extra}


ROWS = [_row("consultation", message_id="<a@x>"), _row("integration", message_id="<A@x>"),
        _row("envoi", message_id="<s@x>", response="250 OK"),
        _row("envoi", "echec", response="550 5.1.1 Unknown mailbox"), _row("suppression", message_id="<a@x>")]


def test_documented_shape_matches_every_event() -> None:
    records, source, text = parse_export({"traces": ROWS, "conservation_jours": 183}, TraceMapping())
    found = match_events(EVENTS, records)
    assert {k: v.index for k, v in found.items() if v} == {"consultation": 1, "integration": 2, "envoi": 3,
                                                           "envoi-echoue": 4, "suppression": 5}
    assert "traces" in source and json.loads(text) == ROWS
    assert retention_days({"conservation_jours": 183}, TraceMapping()) == 183
    assert retention_days({}, TraceMapping()) is None
    for record in records:
        assert record_problems(record, started=NOW, finished=NOW, author_tokens=["81000000011"]) == []


def test_missing_and_unmatched_traces() -> None:
    rows = [r for r in ROWS if r["action"] != "suppression" and r["statut"] != "echec"]
    found = match_events(EVENTS, parse_export({"traces": rows}, TraceMapping())[0])
    assert [k for k, v in found.items() if v is None] == ["envoi-echoue", "suppression"]
    other = [_row("consultation", message_id="<autre@x>")]
    assert match_events(EVENTS[:1], parse_export({"traces": other}, TraceMapping())[0])["consultation"] is None
    # a trace serves one event only
    once = parse_export({"traces": [_row("envoi", message_id="")]}, TraceMapping())[0]
    twice = match_events([ExpectedEvent("envoi1", "x", "envoi"), ExpectedEvent("envoi2", "x", "envoi")], once)
    assert twice["envoi1"] is not None and twice["envoi2"] is None


def test_record_problems_name_what_is_missing() -> None:
    bad = {"horodatage": (NOW - dt.timedelta(hours=3)).isoformat(), "auteur": {"bal": "autre@x"}, "action": "envoi",
           "requete": "", "reponse": ""}
    (record,) = parse_export({"traces": [bad]}, TraceMapping())[0]
    problems = record_problems(record, started=NOW, finished=NOW, author_tokens=["81000000011"])
    assert len(problems) == 4 and any("hors de la séquence" in p for p in problems)
    (empty,) = parse_export({"traces": [{"action": "envoi"}]}, TraceMapping())[0]
    assert any("horodatage absent" in p for p in record_problems(empty, started=NOW, finished=NOW,
                                                                   author_tokens=["x"]))


def test_an_editor_export_mapped_through_the_configuration(tmp_path: Path) -> None:
    csv_text = ("date;utilisateur;evenement;resultat;commande;retour;mid\n"
                f"{STAMP};RPPS 81000000011;MAIL_READ;OK;UID FETCH 7;OK;<a@x>\n"
                f"{STAMP};RPPS 81000000011;MAIL_SEND;KO;RCPT TO:<x@y>;550 5.1.1 Unknown mailbox;\n")
    export = tmp_path / "traces.csv"
    export.write_text(csv_text, encoding="utf-8")
    config = tmp_path / "produit.toml"
    config.write_text(
        '[traces]\nhorodatage = "date"\nauteur = "utilisateur"\naction = "evenement"\nstatut = "resultat"\n'
        'requete = "commande"\nreponse = "retour"\nmessage_id = "mid"\nechec = ["KO"]\n'
        '[traces.actions]\nconsultation = ["MAIL_READ"]\nenvoi = ["MAIL_SEND"]\n', encoding="utf-8")
    mapping = TraceMapping.from_config(load_config(config).traces)
    records, source, _ = parse_export({"fichier": str(export)}, mapping)
    assert str(export) in source and [r.action for r in records] == ["consultation", "envoi"]
    assert records[1].failed is True and records[0].failed is False
    found = match_events([EVENTS[0], EVENTS[3]], records)
    assert all(found.values())


def test_nested_fields_jsonl_and_bad_exports() -> None:
    mapping = TraceMapping.from_config({"auteur": "user.rpps", "action": "type"})
    text = "\n".join(json.dumps({"horodatage": STAMP, "user": {"rpps": "81000000011"}, "type": "delete"}) for _ in "ab")
    records = parse_export({"export": text}, mapping)[0]
    assert [r.author for r in records] == ["81000000011", "81000000011"]
    assert [r.action for r in records] == ["suppression", "suppression"]
    assert read_rows('{"traces": [{"a": 1}]}') == [{"a": 1}]
    with pytest.raises(TraceExportError):
        parse_export({}, TraceMapping())
    with pytest.raises(TraceExportError):
        TraceMapping.from_config({"actions": {"inconnue": ["x"]}})


def test_bad_traces_table_is_a_configuration_error(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[traces.actions]\nlecture = ["READ"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[traces\]"):
        load_config(config)


def test_content_leaks() -> None:
    text = json.dumps([{"requete": "DATA [contenu-harnais x-001] corps"}], ensure_ascii=False)
    assert content_leaks(text, [("corps", "[contenu-harnais x-001]"), ("objet", "Objet secret"), ("vide", "")]) == [
        "corps"]
