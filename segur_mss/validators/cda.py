"""CDA R2 built-in MSSanté rules (always available, no kit needed) and patient identity extraction.

Rules (ids are stable; messages are French):

- ``CDA-XML-*``: hardened parsing (size, well-formedness, depth, DTD/entities, UTF-8).
- ``CDA-ROOT-001`` no ``ClinicalDocument``; ``CDA-ROOT-002`` (info) self-presenting or signed root: the
  ``ClinicalDocument`` subtree is what is validated.
- ``CDA-TPL-001/002`` common templateIds; ``CDA-TPL-003`` no known volet templateId (warning).
- ``CDA-CODE-001`` code missing; ``-002`` malformed LOINC; ``-003`` code inconsistent with the volet templateId;
  ``-004`` code outside the allowed type codes (when a list is given, e.g. JDV_J07 from the kit);
  ``-005`` (info) code not checked against JDV_J07 (no list given).
- ``CDA-ID-001`` document id; ``CDA-VER-001..007`` setId, versionNumber, relatedDocument RPLC.
- ``CDA-HDR-001`` confidentialityCode; ``-002`` xsi:schemaLocation filled (warning); ``-003`` effectiveTime;
  ``-004`` exactly one recordTarget.
- ``CDA-INS-001..005`` INS identifiers; ``CDA-INS-010..015`` mandatory birth traits with an INS.
- ``CDA-N1-001..008`` N1 body shape.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Collection
from dataclasses import dataclass, field

from lxml import etree

from segur_mss.documents.doctypes import (
    COMMON_TEMPLATE_IDS,
    DOCUMENT_TYPES,
    LOINC,
    N1_TEMPLATE_ID,
    N1_TEMPLATE_IDS,
    TYPES_BY_TEMPLATE_ID,
)
from segur_mss.documents.patients import INS_NIA_OID, INS_NIR_OID, INS_OIDS, ins_key_is_valid

from .model import Finding, ValidationReport, validator_version
from .xmlsafe import DEFAULT_MAX_XML_BYTES, parse_xml, path_of

HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSL = "http://www.w3.org/1999/XSL/Transform"
DSIG = "http://www.w3.org/2000/09/xmldsig#"
NS = {"h": HL7}
CDA_TAG = f"{{{HL7}}}ClinicalDocument"
VALIDATOR = "segur-mss.cda-builtin"
VERSION = validator_version("cda-builtin")

#: OIDs of the NIR/NIA used as social security number (not an INS).
NIR_AS_SSN_OIDS = frozenset({"1.2.250.1.213.1.4.13", "1.2.250.1.213.1.4.14"})
N1_MEDIA_TYPES = frozenset({"application/pdf", "text/plain"})
TYPE_CODE_SYSTEMS = frozenset({LOINC, "1.2.250.1.213.1.1.4.12"})
LOINC_RE = re.compile(r"^[0-9]{1,7}-[0-9]$")
INS_RE = re.compile(r"^[0-9]{5}(?:[0-9]{2}|2[ABab])[0-9]{8}$")
KNOWN_TYPE_CODES = frozenset(d.code for d in DOCUMENT_TYPES.values())

TRAIT_LABELS: dict[str, str] = {
    "family_birth": "nom de naissance (name/family[@qualifier='BR'])",
    "given_birth": "premier prénom de naissance (name/given[@qualifier='BR'])",
    "given_all": "liste des prénoms (name/given sans qualifier)",
    "birth_time": "date de naissance (birthTime/@value)",
    "gender": "sexe (administrativeGenderCode/@code)",
    "birth_county": "lieu de naissance (birthplace/place/addr/county)",
}
TRAIT_RULES: dict[str, str] = {
    "family_birth": "CDA-INS-010",
    "given_birth": "CDA-INS-011",
    "given_all": "CDA-INS-012",
    "birth_time": "CDA-INS-013",
    "gender": "CDA-INS-014",
    "birth_county": "CDA-INS-015",
}


# --------------------------------------------------------------------------- data extracted from a CDA


@dataclass(frozen=True)
class PatientIdentity:
    """The patient identity carried by ``recordTarget`` and whether the INS traits are complete."""

    ins: str | None = None
    ins_oid: str | None = None
    family_birth: str | None = None
    given_birth: str | None = None
    given_all: str | None = None
    birth_time: str | None = None
    gender: str | None = None
    birth_county: str | None = None
    other_ids: tuple[tuple[str, str], ...] = ()
    missing_traits: tuple[str, ...] = ()
    record_targets: int = 1

    @property
    def has_ins(self) -> bool:
        return bool(self.ins)

    @property
    def complete(self) -> bool:
        """An INS with every mandatory trait (the only case where ``X-MSS-INS: O`` is right)."""
        return self.has_ins and not self.missing_traits

    @property
    def expected_x_mss_ins(self) -> str:
        return "O" if self.complete else "N"

    @property
    def patient_address(self) -> str | None:
        return f"{self.ins}@patient.mssante.fr" if self.complete else None

    @property
    def patient_id_cx(self) -> str | None:
        """``<INS>^^^&<oid>&ISO^NH`` when an INS is present."""
        return f"{self.ins}^^^&{self.ins_oid}&ISO^NH" if self.ins else None

    def all_ids(self) -> set[tuple[str, str]]:
        ids = set(self.other_ids)
        if self.ins and self.ins_oid:
            ids.add((self.ins_oid, self.ins))
        return ids

    def to_dict(self) -> dict[str, object]:
        return {
            "ins": self.ins,
            "ins_oid": self.ins_oid,
            "family_birth": self.family_birth,
            "given_birth": self.given_birth,
            "given_all": self.given_all,
            "birth_time": self.birth_time,
            "gender": self.gender,
            "birth_county": self.birth_county,
            "other_ids": [list(i) for i in self.other_ids],
            "missing_traits": list(self.missing_traits),
            "complete": self.complete,
            "expected_x_mss_ins": self.expected_x_mss_ins,
        }


@dataclass(frozen=True)
class DocumentCodes:
    """Routing data of a CDA: type code, templateIds, level, ids."""

    code: str | None
    code_system: str | None
    display_name: str | None
    template_ids: tuple[str, ...]
    level: str  # "N1" | "N3"
    id: str | None = None
    set_id: str | None = None
    version: str | None = None
    replaces: tuple[str, ...] = ()


@dataclass
class LoadedCda:
    """A parsed document and where its ``ClinicalDocument`` is."""

    tree: etree._ElementTree | None
    cda: etree._Element | None
    root_kind: str  # "cda" | "self-presenting" | "signed" | "other" | "unparsed"
    findings: list[Finding] = field(default_factory=list)


def _text(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    value = "".join(el.itertext()).strip()
    return value or None


def _attr(el: etree._Element | None, name: str) -> str | None:
    if el is None:
        return None
    value = el.get(name)
    return value.strip() if value and value.strip() else None


def _qualifiers(el: etree._Element) -> set[str]:
    return set((el.get("qualifier") or "").split())


def _ii(el: etree._Element | None) -> str | None:
    """``root`` or ``root^extension`` of an HL7 II."""
    root = _attr(el, "root")
    if not root:
        return None
    ext = _attr(el, "extension")
    return f"{root}^{ext}" if ext else root


def load_cda(data: bytes, *, max_bytes: int = DEFAULT_MAX_XML_BYTES, location: str = "/") -> LoadedCda:
    """Parse ``data`` safely and locate the ``ClinicalDocument`` (plain, self-presenting or signed root)."""
    parsed = parse_xml(data, location=location, max_bytes=max_bytes, rule_prefix="CDA-XML")
    if parsed.tree is None:
        return LoadedCda(None, None, "unparsed", parsed.findings)
    return _locate(parsed.tree, parsed.findings)


def _locate(tree: etree._ElementTree, findings: list[Finding]) -> LoadedCda:
    root = tree.getroot()
    if root.tag == CDA_TAG:
        return LoadedCda(tree, root, "cda", findings)
    cda = next(root.iter(CDA_TAG), None)
    if root.tag == f"{{{XSL}}}stylesheet" or root.tag == f"{{{XSL}}}transform":
        kind = "self-presenting"
    elif root.tag == f"{{{DSIG}}}Signature":
        kind = "signed"
    else:
        kind = "other"
    if cda is None:
        findings.append(
            Finding(
                "CDA-ROOT-001",
                "error",
                "/",
                f"Aucun élément ClinicalDocument (espace de noms {HL7}) : ce n'est pas un document CDA R2.",
                observed=str(root.tag),
            )
        )
        return LoadedCda(tree, None, kind, findings)
    label = {
        "self-presenting": "document auto-présentable (racine xsl:stylesheet)",
        "signed": "document signé (racine ds:Signature)",
        "other": f"racine inattendue {root.tag}",
    }[kind]
    findings.append(
        Finding(
            "CDA-ROOT-002",
            "info" if kind != "other" else "warning",
            path_of(cda),
            f"{label.capitalize()} : le sous-arbre ClinicalDocument est validé.",
        )
    )
    return LoadedCda(tree, cda, kind, findings)


def _as_cda(xml: bytes | etree._Element | etree._ElementTree) -> etree._Element | None:
    if isinstance(xml, etree._ElementTree):
        return _locate(xml, []).cda
    if isinstance(xml, etree._Element):
        if xml.tag == CDA_TAG:
            return xml
        return next(xml.iter(CDA_TAG), None)
    return load_cda(xml).cda


def extract_identity(xml: bytes | etree._Element | etree._ElementTree) -> PatientIdentity:
    """Patient identity of the CDA (first recordTarget); an empty identity when there is no CDA."""
    cda = _as_cda(xml)
    if cda is None:
        return PatientIdentity(record_targets=0, missing_traits=tuple(TRAIT_LABELS))
    return _identity(cda)


def _identity(cda: etree._Element) -> PatientIdentity:
    record_targets = cda.findall("h:recordTarget", NS)
    role = cda.find("h:recordTarget/h:patientRole", NS)
    if role is None:
        return PatientIdentity(record_targets=len(record_targets), missing_traits=tuple(TRAIT_LABELS))
    ins = ins_oid = None
    others: list[tuple[str, str]] = []
    for id_el in role.findall("h:id", NS):
        root, ext = _attr(id_el, "root"), _attr(id_el, "extension")
        if not root:
            continue
        if root in INS_OIDS and ext and ins is None:
            ins, ins_oid = ext, root
        elif ext:
            others.append((root, ext))
    patient = role.find("h:patient", NS)
    family_birth = given_birth = given_all = birth_time = gender = county = None
    if patient is not None:
        for name in patient.findall("h:name", NS):
            for fam in name.findall("h:family", NS):
                if "BR" in _qualifiers(fam) and family_birth is None:
                    family_birth = _text(fam)
            for giv in name.findall("h:given", NS):
                q = _qualifiers(giv)
                if "BR" in q and given_birth is None:
                    given_birth = _text(giv)
                elif not q and given_all is None:
                    given_all = _text(giv)
        bt = patient.find("h:birthTime", NS)
        if bt is not None and not bt.get("nullFlavor"):
            birth_time = _attr(bt, "value")
        gc = patient.find("h:administrativeGenderCode", NS)
        if gc is not None and not gc.get("nullFlavor"):
            gender = _attr(gc, "code")
        county = _text(patient.find("h:birthplace/h:place/h:addr/h:county", NS))
    values = {
        "family_birth": family_birth,
        "given_birth": given_birth,
        "given_all": given_all,
        "birth_time": birth_time,
        "gender": gender,
        "birth_county": county,
    }
    missing = tuple(k for k, v in values.items() if not v)
    return PatientIdentity(
        ins=ins,
        ins_oid=ins_oid,
        other_ids=tuple(others),
        missing_traits=missing,
        record_targets=len(record_targets),
        **values,
    )


def document_codes(xml: bytes | etree._Element | etree._ElementTree) -> DocumentCodes | None:
    """Type code, templateIds, level (N1 when nonXMLBody or the N1 templateId), ids; None without a CDA."""
    cda = _as_cda(xml)
    if cda is None:
        return None
    code = cda.find("h:code", NS)
    tids = tuple(t.get("root", "") for t in cda.findall("h:templateId", NS))
    is_n1 = N1_TEMPLATE_ID in tids or cda.find("h:component/h:nonXMLBody", NS) is not None
    version = cda.find("h:versionNumber", NS)
    parents = tuple(p for p in (_ii(e) for e in cda.findall("h:relatedDocument/h:parentDocument/h:id", NS)) if p)
    return DocumentCodes(
        code=_attr(code, "code"),
        code_system=_attr(code, "codeSystem"),
        display_name=_attr(code, "displayName"),
        template_ids=tids,
        level="N1" if is_n1 else "N3",
        id=_ii(cda.find("h:id", NS)),
        set_id=_ii(cda.find("h:setId", NS)),
        version=_attr(version, "value"),
        replaces=parents,
    )


# --------------------------------------------------------------------------- rules


def _f(rule: str, severity: str, el: etree._Element | None, cda: etree._Element, message: str, **kw) -> Finding:
    location = path_of(el, cda) if el is not None else path_of(cda, cda)
    line = el.sourceline if el is not None else None
    return Finding(rule, severity, location, message, line=line, **kw)  # type: ignore[arg-type]


def check_cda(cda: etree._Element, *, allowed_codes: Collection[str] | None = None) -> list[Finding]:
    """The built-in MSSanté rules on a ``ClinicalDocument`` element."""
    out: list[Finding] = []
    tids = [t.get("root", "") for t in cda.findall("h:templateId", NS)]
    out += _check_templates_and_code(cda, tids, allowed_codes)
    out += _check_versioning(cda)
    out += _check_header(cda)
    out += _check_ins(cda)
    out += _check_n1(cda, tids)
    return out


def _check_templates_and_code(
    cda: etree._Element, tids: list[str], allowed_codes: Collection[str] | None
) -> list[Finding]:
    out: list[Finding] = []
    for rule, tid, label in (
        ("CDA-TPL-001", COMMON_TEMPLATE_IDS[0], "HL7 France"),
        ("CDA-TPL-002", COMMON_TEMPLATE_IDS[1], "CI-SIS"),
    ):
        if tid not in tids:
            out.append(_f(rule, "error", None, cda, f"templateId {label} {tid} absent de l'en-tête.", expected=tid))
    is_n1 = N1_TEMPLATE_ID in tids or cda.find("h:component/h:nonXMLBody", NS) is not None
    volet_types = [TYPES_BY_TEMPLATE_ID[t] for t in tids if t in TYPES_BY_TEMPLATE_ID]
    if (
        not is_n1
        and not volet_types
        and not any(t.startswith("1.2.250.1.213.1.1.1.") and t != COMMON_TEMPLATE_IDS[1] for t in tids)
    ):
        out.append(
            _f(
                "CDA-TPL-003",
                "warning",
                None,
                cda,
                "Aucun templateId de volet CI-SIS reconnu : le volet du document ne peut pas être déterminé.",
                observed=" ".join(tids),
            )
        )
    code_el = cda.find("h:code", NS)
    code, system = _attr(code_el, "code"), _attr(code_el, "codeSystem")
    if code_el is None or not code or not system:
        out.append(
            _f(
                "CDA-CODE-001",
                "error",
                code_el,
                cda,
                "Code du type de document absent ou incomplet (ClinicalDocument/code avec @code et @codeSystem).",
            )
        )
        return out
    if system == LOINC and not LOINC_RE.match(code):
        out.append(
            _f(
                "CDA-CODE-002",
                "error",
                code_el,
                cda,
                f"Code LOINC « {code} » mal formé.",
                observed=code,
                expected="nnnnn-n",
            )
        )
    elif system not in TYPE_CODE_SYSTEMS:
        out.append(
            _f(
                "CDA-CODE-002",
                "error",
                code_el,
                cda,
                f"Système de codes « {system} » inattendu pour le type de document (LOINC ou TRE_A12 attendu).",
                observed=system,
                expected=" | ".join(sorted(TYPE_CODE_SYSTEMS)),
            )
        )
    for dt in volet_types:
        if code not in dt.accepted_codes:
            out.append(
                _f(
                    "CDA-CODE-003",
                    "error",
                    code_el,
                    cda,
                    f"Code « {code} » incohérent avec le volet {dt.key} (templateId "
                    f"{', '.join(dt.volet_template_ids)}) : {' ou '.join(dt.accepted_codes)} attendu.",
                    expected=" | ".join(dt.accepted_codes),
                    observed=code,
                )
            )
    if allowed_codes is not None:
        if code not in allowed_codes:
            out.append(
                _f(
                    "CDA-CODE-004",
                    "error",
                    code_el,
                    cda,
                    f"Code « {code} » absent du jeu de valeurs des types de documents (JDV_J07).",
                    observed=code,
                )
            )
    elif code not in KNOWN_TYPE_CODES:
        out.append(
            _f(
                "CDA-CODE-005",
                "info",
                code_el,
                cda,
                f"Code « {code} » non vérifié contre le JDV_J07 (liste disponible avec le kit ANS, --kit).",
                observed=code,
            )
        )
    return out


def _check_versioning(cda: etree._Element) -> list[Finding]:
    out: list[Finding] = []
    id_el = cda.find("h:id", NS)
    own_id = _ii(id_el)
    if own_id is None:
        out.append(_f("CDA-ID-001", "error", id_el, cda, "Identifiant du document (ClinicalDocument/id/@root) absent."))
    set_el = cda.find("h:setId", NS)
    if set_el is None or set_el.get("nullFlavor") or not _attr(set_el, "root"):
        out.append(
            _f(
                "CDA-VER-001",
                "error",
                set_el,
                cda,
                "setId obligatoire (identifiant commun à toutes les versions du document), sans nullFlavor.",
            )
        )
    ver_el = cda.find("h:versionNumber", NS)
    version: int | None = None
    raw = _attr(ver_el, "value")
    if ver_el is None or ver_el.get("nullFlavor") or raw is None:
        out.append(
            _f("CDA-VER-002", "error", ver_el, cda, "versionNumber obligatoire (entier positif), sans nullFlavor.")
        )
    else:
        try:
            version = int(raw)
            if version < 1:
                raise ValueError
        except ValueError:
            out.append(_f("CDA-VER-002", "error", ver_el, cda, f"versionNumber « {raw} » n'est pas un entier positif."))
            version = None
    related = cda.findall("h:relatedDocument", NS)
    if len(related) > 1:
        out.append(
            _f(
                "CDA-VER-003",
                "error",
                related[1],
                cda,
                f"{len(related)} relatedDocument : un seul est autorisé (remplacement RPLC de la version précédente).",
                observed=str(len(related)),
                expected="0 ou 1",
            )
        )
    for rel in related:
        type_code = rel.get("typeCode")
        if type_code != "RPLC":
            out.append(
                _f(
                    "CDA-VER-004",
                    "error",
                    rel,
                    cda,
                    f"relatedDocument/@typeCode « {type_code} » : RPLC attendu.",
                    expected="RPLC",
                    observed=type_code or "",
                )
            )
        parent_id = rel.find("h:parentDocument/h:id", NS)
        parent = _ii(parent_id)
        if parent is None:
            out.append(
                _f(
                    "CDA-VER-005",
                    "error",
                    rel,
                    cda,
                    "relatedDocument sans parentDocument/id : l'identifiant du document remplacé est obligatoire.",
                )
            )
        elif own_id is not None and parent == own_id:
            out.append(
                _f(
                    "CDA-VER-007",
                    "error",
                    parent_id,
                    cda,
                    "Le document remplacé (parentDocument/id) est le document lui-même.",
                    observed=parent,
                )
            )
        if type_code == "RPLC" and version is not None and version <= 1:
            out.append(
                _f(
                    "CDA-VER-006",
                    "error",
                    ver_el,
                    cda,
                    "Document de remplacement (RPLC) avec versionNumber = 1 : la version doit être incrémentée.",
                    expected="> 1",
                    observed=str(version),
                )
            )
    return out


def _check_header(cda: etree._Element) -> list[Finding]:
    out: list[Finding] = []
    conf = cda.find("h:confidentialityCode", NS)
    if conf is None or not _attr(conf, "code"):
        out.append(_f("CDA-HDR-001", "error", conf, cda, "confidentialityCode obligatoire (@code, ex. N)."))
    schema_location = cda.get(f"{{{XSI}}}schemaLocation")
    if schema_location:
        out.append(
            _f(
                "CDA-HDR-002",
                "warning",
                cda,
                cda,
                "xsi:schemaLocation ne devrait pas être renseigné.",
                observed=schema_location,
            )
        )
    eff = cda.find("h:effectiveTime", NS)
    if eff is None or not _attr(eff, "value"):
        out.append(_f("CDA-HDR-003", "error", eff, cda, "effectiveTime (date de création du document) obligatoire."))
    rts = cda.findall("h:recordTarget", NS)
    if len(rts) != 1:
        out.append(
            _f(
                "CDA-HDR-004",
                "error",
                rts[1] if len(rts) > 1 else None,
                cda,
                f"{len(rts)} recordTarget : un document concerne exactement un patient.",
                expected="1",
                observed=str(len(rts)),
            )
        )
    return out


def _check_ins(cda: etree._Element) -> list[Finding]:
    out: list[Finding] = []
    role = cda.find("h:recordTarget/h:patientRole", NS)
    if role is None:
        return out
    ins_values: list[tuple[str, str, etree._Element]] = []
    for id_el in role.findall("h:id", NS):
        root, ext = _attr(id_el, "root"), _attr(id_el, "extension")
        if root in INS_OIDS:
            if not ext:
                out.append(
                    _f("CDA-INS-001", "error", id_el, cda, f"Identifiant INS (OID {root}) sans matricule (@extension).")
                )
                continue
            ins_values.append((root, ext, id_el))
            if not INS_RE.match(ext):
                out.append(
                    _f(
                        "CDA-INS-002",
                        "error",
                        id_el,
                        cda,
                        f"Matricule INS « {ext} » invalide : 15 caractères (NIR/NIA et clé) attendus.",
                        observed=ext,
                    )
                )
            elif not ins_key_is_valid(ext):
                # Test / demo INS (OIDs .10/.11) often carry arbitrary keys: only informative there.
                out.append(
                    _f(
                        "CDA-INS-003",
                        "warning" if root in (INS_NIR_OID, INS_NIA_OID) else "info",
                        id_el,
                        cda,
                        f"Clé de contrôle du matricule INS « {ext} » incohérente.",
                        observed=ext,
                    )
                )
        elif root in NIR_AS_SSN_OIDS:
            out.append(
                _f(
                    "CDA-INS-005",
                    "info",
                    id_el,
                    cda,
                    f"OID {root} : NIR/NIA utilisé comme numéro de sécurité sociale, ce n'est pas un INS.",
                )
            )
    if len({v[1] for v in ins_values}) > 1:
        out.append(
            _f(
                "CDA-INS-004",
                "error",
                ins_values[1][2],
                cda,
                "Plusieurs matricules INS différents pour le même patient.",
                observed=", ".join(v[1] for v in ins_values),
            )
        )
    if not ins_values:
        return out
    identity = _identity(cda)
    patient = role.find("h:patient", NS)
    for trait in identity.missing_traits:
        out.append(
            _f(
                TRAIT_RULES[trait],
                "error",
                patient if patient is not None else role,
                cda,
                f"INS présent : trait d'identité obligatoire manquant — {TRAIT_LABELS[trait]}.",
                expected=TRAIT_LABELS[trait],
            )
        )
    return out


def _check_n1(cda: etree._Element, tids: list[str]) -> list[Finding]:
    out: list[Finding] = []
    has_n1_tid = N1_TEMPLATE_ID in tids
    non_xml = cda.find("h:component/h:nonXMLBody", NS)
    structured = cda.find("h:component/h:structuredBody", NS)
    if has_n1_tid and non_xml is None:
        out.append(
            _f(
                "CDA-N1-001",
                "error",
                structured if structured is not None else None,
                cda,
                "Document déclaré N1 (templateId 1.3.6.1.4.1.19376.1.2.20) sans corps component/nonXMLBody.",
            )
        )
    if non_xml is not None and not has_n1_tid:
        out.append(
            _f(
                "CDA-N1-002",
                "error",
                non_xml,
                cda,
                "Corps non structuré (nonXMLBody) sans le templateId N1 1.3.6.1.4.1.19376.1.2.20.",
                expected=N1_TEMPLATE_ID,
            )
        )
    if not has_n1_tid and non_xml is None:
        return out
    if set(tids) != set(N1_TEMPLATE_IDS) or len(tids) != len(N1_TEMPLATE_IDS):
        missing = [t for t in N1_TEMPLATE_IDS if t not in tids]
        extra = [t for t in tids if t not in N1_TEMPLATE_IDS]
        out.append(
            _f(
                "CDA-N1-003",
                "error",
                None,
                cda,
                "Un document N1 porte exactement les trois templateId "
                f"{', '.join(N1_TEMPLATE_IDS)}"
                + (f" ; manquant(s) : {', '.join(missing)}" if missing else "")
                + (f" ; en trop : {', '.join(extra)}" if extra else "")
                + ".",
                expected=" ".join(N1_TEMPLATE_IDS),
                observed=" ".join(tids),
            )
        )
    if non_xml is None:
        return out
    text = non_xml.find("h:text", NS)
    if text is None:
        out.append(_f("CDA-N1-008", "error", non_xml, cda, "nonXMLBody sans élément text."))
        return out
    representation = text.get("representation")
    media_type = text.get("mediaType")
    if representation != "B64":
        out.append(
            _f(
                "CDA-N1-004",
                "error",
                text,
                cda,
                f"nonXMLBody/text/@representation « {representation} » : B64 attendu.",
                expected="B64",
                observed=representation or "",
            )
        )
    if media_type not in N1_MEDIA_TYPES:
        out.append(
            _f(
                "CDA-N1-005",
                "error",
                text,
                cda,
                f"nonXMLBody/text/@mediaType « {media_type} » : application/pdf ou text/plain attendu.",
                expected="application/pdf | text/plain",
                observed=media_type or "",
            )
        )
    if representation == "B64":
        payload = "".join((text.text or "").split())
        try:
            decoded = binascii.a2b_base64(payload.encode("ascii"), strict_mode=True) if payload else b""
        except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
            out.append(_f("CDA-N1-006", "error", text, cda, f"Contenu base64 invalide : {exc}."))
            return out
        if not decoded:
            out.append(_f("CDA-N1-006", "error", text, cda, "Contenu base64 vide."))
        elif media_type == "application/pdf" and decoded.lstrip()[:5] != b"%PDF-":
            out.append(
                _f(
                    "CDA-N1-007",
                    "error",
                    text,
                    cda,
                    "mediaType application/pdf mais le contenu décodé n'est pas un PDF (signature %PDF- absente).",
                    observed=repr(decoded[:8]),
                )
            )
        elif media_type == "text/plain":
            try:
                decoded.decode("utf-8")
            except UnicodeDecodeError:
                out.append(_f("CDA-N1-007", "warning", text, cda, "Contenu text/plain décodé non UTF-8."))
    return out


def check_replacement(new: bytes | etree._Element, old: bytes | etree._Element) -> list[Finding]:
    """Rules of a replacement pair: same setId, higher versionNumber, RPLC parent = replaced id."""
    n, o = document_codes(new), document_codes(old)
    out: list[Finding] = []
    if n is None or o is None:
        return [Finding("CDA-RPLC-000", "error", "/", "Document(s) CDA illisible(s) : remplacement non vérifiable.")]
    if n.set_id != o.set_id:
        out.append(
            Finding(
                "CDA-RPLC-001",
                "error",
                "/ClinicalDocument/setId",
                "Le document de remplacement doit conserver le setId du document remplacé.",
                expected=o.set_id,
                observed=n.set_id,
            )
        )
    try:
        if int(n.version or 0) <= int(o.version or 0):
            out.append(
                Finding(
                    "CDA-RPLC-002",
                    "error",
                    "/ClinicalDocument/versionNumber",
                    "Le document de remplacement doit avoir un versionNumber supérieur.",
                    expected=f"> {o.version}",
                    observed=n.version,
                )
            )
    except ValueError:
        out.append(Finding("CDA-RPLC-002", "error", "/ClinicalDocument/versionNumber", "versionNumber non entier."))
    if o.id not in n.replaces:
        out.append(
            Finding(
                "CDA-RPLC-003",
                "error",
                "/ClinicalDocument/relatedDocument/parentDocument/id",
                "relatedDocument RPLC ne désigne pas le document remplacé.",
                expected=o.id,
                observed=", ".join(n.replaces) or "(aucun)",
            )
        )
    return out


def validate_cda(
    data: bytes,
    *,
    subject: str = "document CDA",
    allowed_codes: Collection[str] | None = None,
    max_bytes: int = DEFAULT_MAX_XML_BYTES,
) -> ValidationReport:
    """Run the built-in rules on ``data`` (bytes of a CDA file)."""
    loaded = load_cda(data, max_bytes=max_bytes)
    report = ValidationReport(VALIDATOR, VERSION, subject, list(loaded.findings), {"root_kind": loaded.root_kind})
    if loaded.cda is None:
        return report
    report.extend(check_cda(loaded.cda, allowed_codes=allowed_codes))
    codes = document_codes(loaded.cda)
    identity = _identity(loaded.cda)
    if codes is not None:
        report.extra.update(
            {"code": codes.code, "level": codes.level, "template_ids": list(codes.template_ids), "id": codes.id}
        )
    report.extra["identity"] = identity.to_dict()
    return report


__all__ = [
    "DocumentCodes",
    "LoadedCda",
    "PatientIdentity",
    "check_cda",
    "check_replacement",
    "document_codes",
    "extract_identity",
    "load_cda",
    "validate_cda",
]
