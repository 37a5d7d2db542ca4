"""Annuaire-Santé-like FHIR directory: multi-criteria searches return the right practitioners with their MSSanté
mailboxes; every query is recorded (evidence for CONF.20 / UX.10)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from segur_mss.operator.directory import BAL_TYPE_SYSTEM, MAILBOX_METADATA_URL
from segur_mss.operator.service import ReferenceOperator


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceOperator]:
    op = ReferenceOperator(tmp_path_factory.mktemp("operateur-annuaire")).start()
    yield op
    op.stop()


@pytest.fixture(scope="module")
def fhir(operator: ReferenceOperator) -> Iterator[httpx.Client]:
    env = operator.env()
    ctx = ssl.create_default_context(cafile=env["ca_bundle"])
    with httpx.Client(base_url=env["directory"]["url"], verify=ctx, timeout=5) as client:
        yield client


def search(fhir: httpx.Client, resource: str, params: Any, **kwargs: Any) -> dict[str, Any]:
    response = fhir.get(f"/{resource}", params=params, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    return bundle


def matches(bundle: dict[str, Any], resource_type: str | None = None) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in bundle["entry"]
        if e["search"]["mode"] == "match" and (resource_type is None or e["resource"]["resourceType"] == resource_type)
    ]


def families(bundle: dict[str, Any]) -> list[str]:
    return sorted(r["name"][0]["family"] for r in matches(bundle, "Practitioner"))


def mailboxes(resource: dict[str, Any]) -> dict[str, str]:
    """address -> BAL type, from the telecom entries carrying the MSS metadata extension."""
    found = {}
    for telecom in resource.get("telecom", []):
        for ext in telecom.get("extension", []):
            if ext["url"] == MAILBOX_METADATA_URL:
                kind = next(x for x in ext["extension"] if x["url"] == "type")["valueCodeableConcept"]["coding"][0]
                assert kind["system"] == BAL_TYPE_SYSTEM
                found[telecom["value"]] = kind["code"]
    return found


def test_search_by_name_returns_the_practitioner_with_her_mss_mailbox(fhir: httpx.Client) -> None:
    bundle = search(fhir, "Practitioner", {"name": "martin"})
    (claire,) = matches(bundle)
    assert bundle["total"] == 1 and claire["name"][0]["given"] == ["Claire"]
    assert mailboxes(claire) == {"claire.martin@test.mssante.fr": "PER"}
    assert families(search(fhir, "Practitioner", {"given": "SOPHIE"})) == ["LEROY"]  # case-insensitive
    assert families(search(fhir, "Practitioner", {"family:exact": "Leroy"})) == []
    assert families(search(fhir, "Practitioner", {"name:contains": "oreau"})) == ["MOREAU"]


def test_search_by_rpps_identifier(fhir: httpx.Client) -> None:
    rpps = search(fhir, "Practitioner", {"identifier": "https://rpps.esante.gouv.fr|81000000029"})
    assert families(rpps) == ["DURAND"]
    assert families(search(fhir, "Practitioner", {"identifier": "881000000029"})) == ["DURAND"]  # IDNPS
    assert families(search(fhir, "Practitioner", {"identifier": "urn:oid:1.2.250.1.71.4.2.1|81000000029"})) == []


def test_multi_criteria_profession_and_place(fhir: httpx.Client) -> None:
    assert families(search(fhir, "Practitioner", {"address-city": "lyon"})) == ["MARTIN", "MOREAU"]
    both = search(fhir, "Practitioner", [("address-city", "lyon"), ("qualification-code", "21")])
    assert families(both) == ["MOREAU"]
    either = search(fhir, "Practitioner", [("qualification-code", "10"), ("address-city", "nantes,lille")])
    assert families(either) == ["DURAND", "LEROY"]
    assert families(search(fhir, "Practitioner", {"qualification-code": "pharmacien"})) == ["MOREAU"]


def test_specialty_search_through_practitioner_role(fhir: httpx.Client) -> None:
    bundle = search(fhir, "PractitionerRole", {"specialty": "radiologie", "_include": "PractitionerRole:practitioner"})
    roles = matches(bundle, "PractitionerRole")
    assert {r["practitioner"]["reference"] for r in roles} == {"Practitioner/pra-81000000029"}
    addresses: dict[str, str] = {}
    for role in roles:
        addresses |= mailboxes(role)
    assert addresses == {"paul.durand@test.mssante.fr": "PER", "secretariat.radiologie@test.mssante.fr": "ORG"}
    included = [e for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert [e["resource"]["id"] for e in included] == ["pra-81000000029"]
    chained = search(fhir, "PractitionerRole", [("role", "10"), ("practitioner.name", "leroy")])
    assert {r["practitioner"]["reference"] for r in matches(chained)} == {"Practitioner/pra-81000000037"}
    has = search(fhir, "Practitioner", {"_has:PractitionerRole:practitioner:specialty": "biologie"})
    assert families(has) == ["LEROY"]
    rev = search(fhir, "Practitioner", {"family": "durand", "_revinclude": "PractitionerRole:practitioner"})
    assert len([e for e in rev["entry"] if e["search"]["mode"] == "include"]) == 2


def test_organisations_carry_org_and_app_mailboxes(fhir: httpx.Client) -> None:
    (org,) = matches(search(fhir, "Organization", {"mailbox-mss-type": "ORG"}))
    assert mailboxes(org) == {"secretariat.radiologie@test.mssante.fr": "ORG"}
    assert org["address"][0]["city"] == "Nantes"
    (clinic,) = matches(search(fhir, "Organization", {"name": "clinique"}))
    assert mailboxes(clinic) == {"pfi.clinique@test.mssante.fr": "APP"}
    members = search(fhir, "PractitionerRole", {"organization": org["id"], "_include": "PractitionerRole:organization"})
    assert {r["practitioner"]["reference"] for r in matches(members, "PractitionerRole")} == {
        "Practitioner/pra-81000000029",
        "Practitioner/pra-81000000011",
    }
    by_box = search(fhir, "Practitioner", {"mailbox-mss": "paul.durand@test.mssante.fr"})
    assert families(by_box) == ["DURAND"]


def test_read_paging_and_unknown_parameters(fhir: httpx.Client) -> None:
    assert fhir.get("/Practitioner/pra-81000000011").json()["name"][0]["family"] == "MARTIN"
    missing = fhir.get("/Practitioner/pra-0")
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"
    page = search(fhir, "Practitioner", {"address-city": "lyon", "_count": "1"})
    assert page["total"] == 2 and len(matches(page)) == 1
    assert any(link["relation"] == "next" for link in page["link"])
    lenient = search(fhir, "Practitioner", {"family": "martin", "couleur": "bleu"})
    assert families(lenient) == ["MARTIN"]
    (outcome,) = [e for e in lenient["entry"] if e["search"]["mode"] == "outcome"]
    assert "couleur" in outcome["resource"]["issue"][0]["diagnostics"]
    strict = fhir.get("/Practitioner", params={"couleur": "bleu"}, headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400
    assert fhir.get("/Patient").status_code == 404
    assert fhir.get("/metadata").json()["resourceType"] == "CapabilityStatement"
    posted = fhir.post("/Practitioner/_search", data={"family": "leroy"})
    assert posted.status_code == 200 and families(posted.json()) == ["LEROY"]


def test_every_query_is_recorded(operator: ReferenceOperator, fhir: httpx.Client) -> None:
    before = len(operator.directory.queries)
    with operator.capture() as cap:
        search(fhir, "Practitioner", [("family", "durand"), ("address-city", "nantes")])
        search(fhir, "PractitionerRole", {"specialty": "radiologie"})
    assert [(e.service, e.method, e.status) for e in cap.http] == [("annuaire", "GET", 200)] * 2
    assert cap.http[0].path == "/fhir/Practitioner?family=durand&address-city=nantes"
    first, second = operator.directory.queries[before:]
    assert first.params == [("family", "durand"), ("address-city", "nantes")]
    assert first.matches == ["Practitioner/pra-81000000029"] and first.mailboxes == ["paul.durand@test.mssante.fr"]
    assert second.resource_type == "PractitionerRole" and second.total == 2
    journal = (operator.recorder.directory / "http.jsonl").read_text(encoding="utf-8")
    assert "family=durand&address-city=nantes" in journal
