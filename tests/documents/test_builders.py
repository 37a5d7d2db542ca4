"""Synthetic documents: patients, CDA, PDF, IHE_XDM and mails are well formed and deterministic."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from lxml import etree

from segur_mss.documents import DOCUMENT_TYPES, PATIENTS, build_xdm, get_patient, make_cda, make_pdf
from segur_mss.documents.mail import build_document_mail, build_plain_mail, ddm_subject
from segur_mss.documents.patients import INS_NIR_TEST_OID, ins_key_is_valid, make_ins
from segur_mss.documents.xdm import METADATA_PATH, build_xdm_entries, entry_uuid, zip_entries

HL7 = {"h": "urn:hl7-org:v3"}
RIM = "{urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0}"


def test_patients_cover_the_identity_cases() -> None:
    assert {"qualifie", "sans_ins", "traits_incomplets"} <= set(PATIENTS)
    qualified = [p for p in PATIENTS.values() if p.has_qualified_ins]
    assert len(qualified) >= 3
    for p in PATIENTS.values():
        assert p.ins_oid == INS_NIR_TEST_OID
        if p.ins:
            assert len(p.ins) == 15 and ins_key_is_valid(p.ins)
    assert PATIENTS["qualifie"].patient_address == f"{PATIENTS['qualifie'].ins}@patient.mssante.fr"
    assert PATIENTS["sans_ins"].patient_address is None and not PATIENTS["sans_ins"].has_qualified_ins
    incomplete = PATIENTS["traits_incomplets"]
    assert incomplete.ins and incomplete.birth_county is None
    assert not incomplete.has_qualified_ins and incomplete.patient_address is None
    assert get_patient("qualifie") is PATIENTS["qualifie"]
    with pytest.raises(KeyError, match="qualifie"):
        get_patient("inconnu")


def test_ins_key() -> None:
    assert make_ins("2850575056123")[-2:] == f"{97 - 2850575056123 % 97:02d}"
    assert ins_key_is_valid(make_ins("1702A99139077"))  # Corsica department
    assert not ins_key_is_valid("285057505612300")


def test_make_pdf_is_a_valid_tiny_pdf() -> None:
    pdf = make_pdf("Compte rendu (test) \\ é\nligne 2")
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\n(\d+)\n", pdf).group(1))
    assert pdf[startxref:].startswith(b"xref")
    offsets = [int(o) for o in re.findall(rb"(\d{10}) 00000 n", pdf)]
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(f"{number} 0 obj".encode())
    assert make_pdf("a") == make_pdf("a")


@pytest.mark.parametrize("doc_type", sorted(DOCUMENT_TYPES))
@pytest.mark.parametrize("level", ["N1", "N3"])
def test_make_cda_header(doc_type: str, level: str) -> None:
    patient = PATIENTS["qualifie"]
    doc = make_cda(patient, doc_type=doc_type, level=level)
    root = etree.fromstring(doc.xml)
    assert root.tag == "{urn:hl7-org:v3}ClinicalDocument"
    tids = [t.get("root") for t in root.findall("h:templateId", HL7)]
    assert tids[:2] == ["2.16.840.1.113883.2.8.2.1", "1.2.250.1.213.1.1.1.1"]
    if level == "N1":
        assert tids[2:] == ["1.3.6.1.4.1.19376.1.2.20"]
        text = root.find("h:component/h:nonXMLBody/h:text", HL7)
        assert text.get("representation") == "B64" and text.get("mediaType") == "application/pdf"
    else:
        assert tids[2:] == list(DOCUMENT_TYPES[doc_type].volet_template_ids)
        assert root.find("h:component/h:structuredBody", HL7) is not None
    assert root.find("h:code", HL7).get("code") == DOCUMENT_TYPES[doc_type].code == doc.code
    assert root.find("h:setId", HL7).get("root") == doc.set_id
    assert root.find("h:versionNumber", HL7).get("value") == "1"
    ins_id = root.find("h:recordTarget/h:patientRole/h:id", HL7)
    assert (ins_id.get("root"), ins_id.get("extension")) == (INS_NIR_TEST_OID, patient.ins)
    assert doc.level == level and doc.sha1 == hashlib.sha1(doc.xml).hexdigest()


def test_make_cda_is_deterministic_and_seeded() -> None:
    p = PATIENTS["qualifie_2"]
    assert make_cda(p).xml == make_cda(p).xml
    assert make_cda(p, uid_seed="a").id_root != make_cda(p, uid_seed="b").id_root
    assert make_cda(p).id_root != make_cda(PATIENTS["qualifie_3"]).id_root


def test_replacement_keeps_set_id_and_points_at_the_replaced_document() -> None:
    p = PATIENTS["qualifie"]
    v1 = make_cda(p)
    v2 = make_cda(p, replaces=v1)
    v3 = make_cda(p, replaces=v2)
    assert v1.set_id == v2.set_id == v3.set_id
    assert (v1.version, v2.version, v3.version) == (1, 2, 3)
    assert len({v1.id_root, v2.id_root, v3.id_root}) == 3
    root = etree.fromstring(v3.xml)
    related = root.findall("h:relatedDocument", HL7)
    assert len(related) == 1 and related[0].get("typeCode") == "RPLC"
    assert related[0].find("h:parentDocument/h:id", HL7).get("root") == v2.id_root
    assert v3.replaces_id == v2.unique_id


def test_identity_traits_follow_the_patient() -> None:
    root = etree.fromstring(make_cda(PATIENTS["traits_incomplets"]).xml)
    assert root.find(".//h:birthplace", HL7) is None
    root = etree.fromstring(make_cda(PATIENTS["sans_ins"]).xml)
    ids = [i.get("root") for i in root.findall("h:recordTarget/h:patientRole/h:id", HL7)]
    assert INS_NIR_TEST_OID not in ids and len(ids) == 1


def test_build_xdm_layout_hash_and_determinism() -> None:
    p = PATIENTS["qualifie"]
    docs = [make_cda(p), make_cda(p, doc_type="LDL-SES")]
    archive = build_xdm(docs, p)
    assert archive == build_xdm(docs, p)
    zf = zipfile.ZipFile(io.BytesIO(archive))
    assert zf.namelist() == [
        "README.TXT",
        "INDEX.HTM",
        METADATA_PATH,
        "IHE_XDM/SUBSET01/DOC0001.XML",
        "IHE_XDM/SUBSET01/DOC0002.XML",
    ]
    meta = etree.fromstring(zf.read(METADATA_PATH))
    entries = list(meta.iter(f"{RIM}ExtrinsicObject"))
    assert len(entries) == 2
    for entry, doc, name in zip(entries, docs, ("DOC0001.XML", "DOC0002.XML"), strict=True):
        slots = {s.get("name"): [v.text for v in s.iter(f"{RIM}Value")] for s in entry.findall(f"{RIM}Slot")}
        assert slots["hash"] == [hashlib.sha1(doc.xml).hexdigest()]
        assert slots["size"] == [str(len(doc.xml))]
        assert slots["URI"] == [name]
        assert slots["sourcePatientId"] == [p.source_patient_id_cx]
        assert entry.get("id") == entry_uuid(doc.unique_id)
        assert zf.read(f"IHE_XDM/SUBSET01/{name}") == doc.xml
    pids = {e.get("value") for e in meta.iter(f"{RIM}ExternalIdentifier") if "patientId" in etree.tostring(e).decode()}
    assert pids == {f"{p.ins}^^^&{INS_NIR_TEST_OID}&ISO^NH"}


def test_build_xdm_replacement_association() -> None:
    p = PATIENTS["qualifie"]
    v1 = make_cda(p)
    v2 = make_cda(p, replaces=v1)
    meta = etree.fromstring(zipfile.ZipFile(io.BytesIO(build_xdm([v2], p))).read(METADATA_PATH))
    rplc = [a for a in meta.iter(f"{RIM}Association") if a.get("associationType").endswith("RPLC")]
    assert len(rplc) == 1
    assert rplc[0].get("sourceObject") == entry_uuid(v2.unique_id)
    assert rplc[0].get("targetObject") == entry_uuid(v1.unique_id)


def test_xdm_entries_can_be_tampered_and_rezipped() -> None:
    p = PATIENTS["qualifie"]
    entries = [e for e in build_xdm_entries([make_cda(p)], p) if e[0] != "README.TXT"]
    names = zipfile.ZipFile(io.BytesIO(zip_entries(entries))).namelist()
    assert "README.TXT" not in names and METADATA_PATH in names


def test_build_document_mail_headers() -> None:
    p = PATIENTS["qualifie"]
    docs = [make_cda(p), make_cda(p, doc_type="CR-IMG")]
    msg = build_document_mail(docs, p, codecda_form="repeated", mes_fin=True, in_reply_to="<a@b.test>")
    raw = msg.as_bytes()
    assert (
        raw == build_document_mail(docs, p, codecda_form="repeated", mes_fin=True, in_reply_to="<a@b.test>").as_bytes()
    )
    parsed = message_from_bytes(raw, policy=default_policy)
    assert parsed.get_all("X-MSS-CODECDA") == ["11502-2", "18748-4"]
    assert parsed["X-MSS-INS"] == "O" and parsed["X-MSS-MES"] == "FIN" and parsed["X-MSS-NIL"]
    assert str(parsed["Subject"]) == ddm_subject(docs[0].title, p)
    assert parsed["To"] == p.patient_address
    assert parsed["References"] == "<a@b.test>"
    names = [part.get_filename() for part in parsed.iter_attachments()]
    assert names == ["IHE_XDM.zip"]
    comma = message_from_bytes(build_document_mail(docs, p, codecda_form="comma").as_bytes(), policy=default_policy)
    assert comma.get_all("X-MSS-CODECDA") == ["11502-2,18748-4"]
    no_ins = message_from_bytes(
        build_document_mail([make_cda(PATIENTS["sans_ins"])], PATIENTS["sans_ins"]).as_bytes(), policy=default_policy
    )
    assert no_ins["X-MSS-INS"] == "N"


def test_build_plain_mail_has_no_document_headers() -> None:
    msg = build_plain_mail()
    assert msg["X-MSS-NIL"] and msg["X-MSS-CODECDA"] is None and msg["X-MSS-INS"] is None
