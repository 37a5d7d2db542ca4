"""IHE_XDM archive validator (ITI-32 media, MSSanté use): safe unzip, layout, ebRIM metadata, CDA documents.

Severity policy: what MSSanté processing relies on (layout, hash, size, URI, patientId, type code, RPLC
consistency) is an ``error``; ebRIM formalities the ANS sample archives themselves miss (symbolic ids, no
submission set classification node, classification pointing elsewhere, formatCode scheme) are ``warning``.

Rules: ``XDM-ZIP-001..009`` safe extraction; ``XDM-LAYOUT-001..005``; ``XDM-META-001..008`` ebRIM structure;
``XDM-DOC-001..012`` per DocumentEntry; ``XDM-PID-001..004`` patient identifiers; ``XDM-ASSOC-001``,
``XDM-RPLC-001..005`` associations; CDA built-in rules (``CDA-*``) on each document, located as
``<zip path>!<xpath>``.
"""

from __future__ import annotations

import hashlib
import io
import stat
import struct
import zipfile
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from lxml import etree

from segur_mss.documents.xdm import (
    ASSOC_HAS_MEMBER,
    ASSOC_RPLC,
    DE_CLASS_CODE,
    DE_FORMAT_CODE,
    DE_PATIENT_ID,
    DE_TYPE_CODE,
    DE_UNIQUE_ID,
    LCM_NS,
    RIM_NS,
    SS_PATIENT_ID,
    SS_UNIQUE_ID,
    STABLE_DOCUMENT_OBJECT_TYPE,
    SUBMISSION_SET_NODE,
)

from .cda import DocumentCodes, PatientIdentity, check_cda, document_codes, extract_identity, load_cda
from .model import Finding, ValidationReport, validator_version
from .xmlsafe import parse_xml

VALIDATOR = "segur-mss.xdm"
VERSION = validator_version("xdm")
RIM = f"{{{RIM_NS}}}"
ON_DEMAND_OBJECT_TYPE = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248"


@dataclass(frozen=True)
class XdmLimits:
    """Bounds of the safe extraction (defaults fit MSSanté mails, which are a few tens of MB at most)."""

    max_archive_bytes: int = 100 * 1024 * 1024
    max_entries: int = 1000
    max_entry_bytes: int = 64 * 1024 * 1024
    max_total_bytes: int = 200 * 1024 * 1024
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 1024 * 1024  # ratios are only judged above this uncompressed size
    max_path_length: int = 255


DEFAULT_LIMITS = XdmLimits()


@dataclass
class XdmDocument:
    """One DocumentEntry with its bytes (when its URI resolves) and what its CDA says."""

    entry_id: str
    subset: str
    uri: str | None
    path: str | None
    data: bytes | None
    unique_id: str | None
    patient_id: str | None
    type_code: str | None
    hash: str | None
    size: str | None
    codes: DocumentCodes | None = None
    identity: PatientIdentity | None = None


@dataclass
class XdmInspection:
    """The report plus what was read (for the mail validator and scenario steps)."""

    report: ValidationReport
    entries: dict[str, bytes] = field(default_factory=dict)
    documents: list[XdmDocument] = field(default_factory=list)
    submission_patient_ids: list[str] = field(default_factory=list)

    @property
    def cda_codes(self) -> list[str]:
        return [d.codes.code for d in self.documents if d.codes is not None and d.codes.code]

    @property
    def identities(self) -> list[PatientIdentity]:
        return [d.identity for d in self.documents if d.identity is not None]


def parse_cx(value: str | None) -> tuple[str, str | None, str | None] | None:
    """HL7 CX ``id^^^&oid&ISO^type`` -> (id, oid, identifier type); None when empty."""
    if not value:
        return None
    comps = value.split("^")
    ident = comps[0].strip()
    if not ident:
        return None
    oid = None
    if len(comps) > 3:
        sub = comps[3].split("&")
        oid = sub[1].strip() if len(sub) > 1 and sub[1].strip() else (sub[0].strip() or None)
    id_type = comps[4].strip() if len(comps) > 4 and comps[4].strip() else None
    return ident, oid, id_type


# --------------------------------------------------------------------------- safe unzip


def _eocd_entry_count(data: bytes) -> int | None:
    tail = data[-(65535 + 22) :]
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or pos + 22 > len(tail):
        return None
    (total,) = struct.unpack("<H", tail[pos + 10 : pos + 12])
    return None if total == 0xFFFF else total


def _bad_path(name: str) -> str | None:
    if "\\" in name:
        return "séparateur « \\ »"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "chemin absolu"
    if any(part == ".." for part in PurePosixPath(name).parts):
        return "composant « .. »"
    if "\x00" in name:
        return "caractère NUL"
    return None


def safe_unzip(data: bytes, limits: XdmLimits = DEFAULT_LIMITS) -> tuple[dict[str, bytes], list[Finding]]:
    """Extract in memory with limits; every refusal is a finding, never an exception."""
    findings: list[Finding] = []
    entries: dict[str, bytes] = {}

    def err(rule: str, loc: str, msg: str, **kw) -> None:
        findings.append(Finding(rule, "error", loc, msg, **kw))

    if len(data) > limits.max_archive_bytes:
        err("XDM-ZIP-002", "/", f"Archive trop volumineuse ({len(data)} octets, limite {limits.max_archive_bytes}).")
        return entries, findings
    declared = _eocd_entry_count(data)
    if declared is not None and declared > limits.max_entries:
        err("XDM-ZIP-003", "/", f"Archive de {declared} entrées (limite {limits.max_entries}) : refusée.")
        return entries, findings
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        err("XDM-ZIP-001", "/", f"Archive zip illisible : {exc}.")
        return entries, findings
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            err("XDM-ZIP-003", "/", f"Archive de {len(infos)} entrées (limite {limits.max_entries}) : refusée.")
            return entries, findings
        declared_total = sum(i.file_size for i in infos)
        if declared_total > limits.max_total_bytes:
            err(
                "XDM-ZIP-006",
                "/",
                f"Taille décompressée annoncée {declared_total} octets (limite {limits.max_total_bytes}) : "
                "bombe de décompression probable, archive refusée.",
            )
            return entries, findings
        total = 0
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            if len(name) > limits.max_path_length:
                err("XDM-ZIP-004", name[:80] + "…", f"Nom d'entrée trop long ({len(name)} caractères).")
                continue
            reason = _bad_path(name)
            if reason:
                err("XDM-ZIP-004", name, f"Chemin d'entrée dangereux ({reason}) : entrée ignorée (zip slip).")
                continue
            mode = info.external_attr >> 16
            if info.create_system == 3 and stat.S_ISLNK(mode):
                err("XDM-ZIP-005", name, "Lien symbolique dans l'archive : entrée ignorée.")
                continue
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                err("XDM-ZIP-009", name, "Entrée chiffrée : illisible.")
                continue
            key = name
            if key.lower() in seen:
                err("XDM-ZIP-008", name, "Entrée en double dans l'archive.")
                continue
            seen.add(key.lower())
            if info.file_size > limits.max_entry_bytes:
                err("XDM-ZIP-006", name, f"Entrée de {info.file_size} octets (limite {limits.max_entry_bytes}).")
                continue
            if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(
                info.compress_size, 1
            ):
                err(
                    "XDM-ZIP-007",
                    name,
                    f"Taux de compression suspect ({info.file_size}/{info.compress_size}) : bombe de décompression "
                    "probable, entrée ignorée.",
                )
                continue
            budget = min(limits.max_entry_bytes, limits.max_total_bytes - total)
            try:
                with zf.open(info) as fh:
                    content = fh.read(budget + 1)
            except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, ValueError) as exc:
                err("XDM-ZIP-001", name, f"Entrée illisible : {exc}.")
                continue
            if len(content) > budget:
                err("XDM-ZIP-006", name, "Contenu décompressé au-delà des limites : entrée ignorée.")
                continue
            total += len(content)
            entries[name] = content
    return entries, findings


# --------------------------------------------------------------------------- metadata helpers


def _slot(obj: etree._Element, name: str) -> list[str]:
    for slot in obj.findall(f"{RIM}Slot"):
        if slot.get("name") == name:
            return [(v.text or "").strip() for v in slot.iter(f"{RIM}Value")]
    return []


def _ext_id(obj: etree._Element, scheme: str) -> str | None:
    for ei in obj.iter(f"{RIM}ExternalIdentifier"):
        if ei.get("identificationScheme") == scheme:
            return (ei.get("value") or "").strip() or None
    return None


def _classifications(obj: etree._Element, scheme: str) -> list[etree._Element]:
    return [c for c in obj.iter(f"{RIM}Classification") if c.get("classificationScheme") == scheme]


def _find_entry(entries: dict[str, bytes], path: str) -> str | None:
    if path in entries:
        return path
    lower = path.lower()
    return next((k for k in entries if k.lower() == lower), None)


# --------------------------------------------------------------------------- main


def inspect_xdm(
    data: bytes,
    *,
    subject: str = "IHE_XDM.zip",
    limits: XdmLimits = DEFAULT_LIMITS,
    run_cda: bool = True,
    allowed_codes: Collection[str] | None = None,
) -> XdmInspection:
    """Validate an IHE_XDM archive and return what was read."""
    report = ValidationReport(VALIDATOR, VERSION, subject)
    entries, zip_findings = safe_unzip(data, limits)
    report.extend(zip_findings)
    insp = XdmInspection(report, entries)
    if not entries and any(f.rule_id in ("XDM-ZIP-001", "XDM-ZIP-002", "XDM-ZIP-003") for f in zip_findings):
        return insp
    if any(f.rule_id == "XDM-ZIP-006" and f.location == "/" for f in zip_findings):
        return insp

    # layout
    for rule, name in (("XDM-LAYOUT-001", "README.TXT"), ("XDM-LAYOUT-002", "INDEX.HTM")):
        found = _find_entry(entries, name)
        if found is None:
            report.findings.append(Finding(rule, "error", name, f"{name} absent de la racine de l'archive."))
        elif found != name:
            report.findings.append(
                Finding("XDM-LAYOUT-004", "warning", found, f"{found} : nom attendu en majuscules « {name} ».")
            )
    metadata_paths = sorted(
        k
        for k in entries
        if len(PurePosixPath(k).parts) == 3
        and PurePosixPath(k).parts[0].upper() == "IHE_XDM"
        and PurePosixPath(k).name.upper() == "METADATA.XML"
    )
    if not metadata_paths:
        report.findings.append(
            Finding(
                "XDM-LAYOUT-003",
                "error",
                "IHE_XDM/SUBSET01/METADATA.XML",
                "Aucun IHE_XDM/<SUBSET>/METADATA.XML dans l'archive.",
            )
        )
        return insp
    referenced: set[str] = set()
    for meta_path in metadata_paths:
        _check_subset(insp, meta_path, referenced, run_cda, allowed_codes)
    for name in entries:
        p = PurePosixPath(name)
        if p.parts[0].upper() == "IHE_XDM" and name not in referenced and p.name.upper() != "METADATA.XML":
            report.findings.append(
                Finding("XDM-LAYOUT-005", "warning", name, "Fichier du sous-ensemble non référencé par METADATA.XML.")
            )
    report.extra["documents"] = [
        {
            "uri": d.uri,
            "path": d.path,
            "unique_id": d.unique_id,
            "type_code": d.type_code,
            "cda_code": d.codes.code if d.codes else None,
            "patient_id": d.patient_id,
        }
        for d in insp.documents
    ]
    report.extra["cda_codes"] = insp.cda_codes
    return insp


def _check_subset(
    insp: XdmInspection,
    meta_path: str,
    referenced: set[str],
    run_cda: bool,
    allowed_codes: Collection[str] | None,
) -> None:
    report = insp.report
    entries = insp.entries
    subset_dir = str(PurePosixPath(meta_path).parent)
    parsed = parse_xml(entries[meta_path], location=meta_path, rule_prefix="XDM-META-XML", require_utf8=False)
    report.extend(parsed.findings)
    if parsed.tree is None:
        report.findings.append(Finding("XDM-META-001", "error", meta_path, "METADATA.XML illisible."))
        return
    root = parsed.tree.getroot()
    if root.tag != f"{{{LCM_NS}}}SubmitObjectsRequest":
        report.findings.append(
            Finding(
                "XDM-META-002",
                "error",
                meta_path,
                "Racine de METADATA.XML inattendue : lcm:SubmitObjectsRequest (ebRIM 3.0) attendu.",
                observed=str(root.tag),
            )
        )
    packages = list(root.iter(f"{RIM}RegistryPackage"))
    node_targets = {
        c.get("classifiedObject")
        for c in root.iter(f"{RIM}Classification")
        if c.get("classificationNode") == SUBMISSION_SET_NODE
    }
    submission_sets = [p for p in packages if p.get("id") in node_targets or _ext_id(p, SS_UNIQUE_ID)]
    if len(submission_sets) != 1:
        report.findings.append(
            Finding(
                "XDM-META-003",
                "error",
                meta_path,
                f"{len(submission_sets)} lot(s) de soumission (SubmissionSet) : exactement un attendu.",
            )
        )
    ss = submission_sets[0] if submission_sets else None
    ss_id = ss.get("id") if ss is not None else None
    ss_pid: str | None = None
    if ss is not None:
        if ss_id not in node_targets:
            report.findings.append(
                Finding(
                    "XDM-META-004",
                    "warning",
                    meta_path,
                    "Le SubmissionSet n'est pas classé par le nœud urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd.",
                )
            )
        for c in ss.findall(f"{RIM}Classification"):
            if c.get("classifiedObject") not in (None, ss_id):
                report.findings.append(
                    Finding(
                        "XDM-META-006",
                        "warning",
                        meta_path,
                        f"Classification {c.get('id')} du SubmissionSet rattachée à « {c.get('classifiedObject')} » "
                        f"au lieu de « {ss_id} ».",
                    )
                )
        ss_pid = _ext_id(ss, SS_PATIENT_ID)
        if not ss_pid:
            report.findings.append(
                Finding("XDM-PID-001", "error", meta_path, "patientId du SubmissionSet absent.", requirement=None)
            )
        else:
            insp.submission_patient_ids.append(ss_pid)
    object_ids = [e.get("id") for e in root.iter(f"{RIM}ExtrinsicObject", f"{RIM}RegistryPackage")]
    symbolic = [i for i in object_ids if i and not i.startswith("urn:uuid:")]
    if symbolic:
        report.findings.append(
            Finding(
                "XDM-META-005",
                "warning",
                meta_path,
                f"Identifiants symboliques (UUID attendus) : {', '.join(symbolic[:5])}"
                + (" …" if len(symbolic) > 5 else ""),
            )
        )

    extrinsics = [
        e
        for e in root.iter(f"{RIM}ExtrinsicObject")
        if e.get("objectType") in (STABLE_DOCUMENT_OBJECT_TYPE, ON_DEMAND_OBJECT_TYPE, None)
    ]
    if not extrinsics:
        report.findings.append(Finding("XDM-META-007", "error", meta_path, "Aucun DocumentEntry (ExtrinsicObject)."))
    entry_ids = {e.get("id") for e in extrinsics}
    doc_pids: list[str] = []
    for eo in extrinsics:
        doc = _check_entry(insp, eo, meta_path, subset_dir, referenced, run_cda, allowed_codes)
        if doc.patient_id:
            doc_pids.append(doc.patient_id)
            if ss_pid and doc.patient_id != ss_pid:
                report.findings.append(
                    Finding(
                        "XDM-PID-002",
                        "error",
                        f"{meta_path}#{doc.entry_id}",
                        "patientId du DocumentEntry différent de celui du SubmissionSet (un seul patient par envoi).",
                        expected=ss_pid,
                        observed=doc.patient_id,
                    )
                )
    if len(set(doc_pids)) > 1 and not ss_pid:
        report.findings.append(
            Finding("XDM-PID-002", "error", meta_path, "DocumentEntry de patients différents dans le même envoi.")
        )
    _check_associations(insp, root, meta_path, ss_id, entry_ids)


def _check_entry(
    insp: XdmInspection,
    eo: etree._Element,
    meta_path: str,
    subset_dir: str,
    referenced: set[str],
    run_cda: bool,
    allowed_codes: Collection[str] | None,
) -> XdmDocument:
    report = insp.report
    eid = eo.get("id") or "?"
    loc = f"{meta_path}#{eid}"

    def add(rule: str, severity: str, msg: str, **kw) -> None:
        report.findings.append(Finding(rule, severity, loc, msg, **kw))  # type: ignore[arg-type]

    hashes, sizes, uris = _slot(eo, "hash"), _slot(eo, "size"), _slot(eo, "URI")
    h = hashes[0] if hashes else None
    size = sizes[0] if sizes else None
    uri = uris[0] if uris else None
    unique_id = _ext_id(eo, DE_UNIQUE_ID)
    pid = _ext_id(eo, DE_PATIENT_ID)
    types = _classifications(eo, DE_TYPE_CODE)
    type_code = types[0].get("nodeRepresentation") if types else None
    doc = XdmDocument(eid, subset_dir, uri, None, None, unique_id, pid, type_code, h, size)
    insp.documents.append(doc)
    if not h:
        add("XDM-DOC-001", "error", "Slot hash (SHA-1 du document) absent.")
    if not size:
        add("XDM-DOC-002", "error", "Slot size (taille du document en octets) absent.")
    if not uri:
        add("XDM-DOC-003", "error", "Slot URI (nom du fichier du document) absent.")
    if not unique_id:
        add("XDM-DOC-007", "error", "uniqueId du DocumentEntry absent.")
    if not pid:
        add("XDM-PID-001", "error", "patientId du DocumentEntry absent.")
    if not type_code:
        add("XDM-DOC-008", "error", "typeCode du DocumentEntry absent.")
    if not _classifications(eo, DE_FORMAT_CODE):
        add("XDM-DOC-009", "warning", "formatCode du DocumentEntry absent.")
    if not _classifications(eo, DE_CLASS_CODE):
        add("XDM-DOC-012", "warning", "classCode du DocumentEntry absent.")
    for c in eo.iter(f"{RIM}Classification"):
        if c.get("classifiedObject") not in (None, eid):
            add(
                "XDM-META-006",
                "warning",
                f"Classification {c.get('id')} rattachée à « {c.get('classifiedObject')} » au lieu de « {eid} ».",
            )
            break
    for fc in _classifications(eo, DE_FORMAT_CODE):
        scheme = _slot(fc, "codingScheme")
        if scheme and scheme[0] == "2.16.840.1.113883.6.1":
            add(
                "XDM-META-008",
                "warning",
                f"formatCode « {fc.get('nodeRepresentation')} » déclaré sous le système LOINC.",
            )
    if not uri:
        return doc
    if _bad_path(uri) or "/" in uri.strip("/"):
        add("XDM-DOC-004", "error", f"URI « {uri} » : nom de fichier relatif au sous-ensemble attendu.", observed=uri)
        return doc
    path = _find_entry(insp.entries, f"{subset_dir}/{uri}")
    if path is None:
        add("XDM-DOC-004", "error", f"URI « {uri} » : aucun fichier {subset_dir}/{uri} dans l'archive.", observed=uri)
        return doc
    referenced.add(path)
    data = insp.entries[path]
    doc.path, doc.data = path, data
    if h:
        actual = hashlib.sha1(data).hexdigest()
        if h.strip().lower() != actual:
            add(
                "XDM-DOC-005",
                "error",
                f"hash de {uri} incorrect (SHA-1 des octets du fichier).",
                expected=actual,
                observed=h,
            )
    if size and (not size.strip().isdigit() or int(size) != len(data)):
        add("XDM-DOC-006", "error", f"size de {uri} incorrect.", expected=str(len(data)), observed=size)
    mime = eo.get("mimeType")
    if mime not in ("text/xml", "application/xml"):
        return doc
    loaded = load_cda(data, location=path)
    for f in loaded.findings:
        report.findings.append(_relocate(f, path))
    if loaded.cda is None:
        return doc
    doc.codes = document_codes(loaded.cda)
    doc.identity = extract_identity(loaded.cda)
    if run_cda:
        report.extend(_relocate(f, path) for f in check_cda(loaded.cda, allowed_codes=allowed_codes))
    if type_code and doc.codes and doc.codes.code and type_code != doc.codes.code:
        add(
            "XDM-DOC-010",
            "error",
            f"typeCode du DocumentEntry différent du code du document CDA {uri}.",
            expected=doc.codes.code,
            observed=type_code,
        )
    if unique_id and doc.codes and doc.codes.id and unique_id != doc.codes.id:
        add(
            "XDM-DOC-011",
            "warning",
            f"uniqueId du DocumentEntry différent de l'identifiant du document CDA {uri}.",
            expected=doc.codes.id,
            observed=unique_id,
        )
    if pid:
        cx = parse_cx(pid)
        ids = doc.identity.all_ids() if doc.identity else set()
        if cx is None or (cx[1], cx[0]) not in ids:
            add(
                "XDM-PID-003",
                "error",
                f"patientId « {pid} » ne correspond à aucun identifiant du recordTarget du document {uri}.",
                expected=" | ".join(f"{e}^^^&{r}&ISO" for r, e in sorted(ids)) or "(aucun)",
                observed=pid,
            )
        elif doc.identity and doc.identity.ins and cx[0] != doc.identity.ins:
            add(
                "XDM-PID-004",
                "warning",
                "Le document porte un INS mais le patientId utilise un autre identifiant.",
                expected=doc.identity.patient_id_cx,
                observed=pid,
            )
    return doc


def _relocate(f: Finding, path: str) -> Finding:
    return Finding(
        f.rule_id, f.severity, f"{path}!{f.location}", f.message, f.requirement, f.line, f.expected, f.observed
    )


def _check_associations(
    insp: XdmInspection, root: etree._Element, meta_path: str, ss_id: str | None, entry_ids: set[str | None]
) -> None:
    report = insp.report
    members: set[str | None] = set()
    rplc_sources: dict[str, list[str]] = {}
    for assoc in root.iter(f"{RIM}Association"):
        atype = assoc.get("associationType") or ""
        src, tgt = assoc.get("sourceObject"), assoc.get("targetObject")
        loc = f"{meta_path}#{assoc.get('id')}"
        if atype == ASSOC_HAS_MEMBER and src == ss_id:
            members.add(tgt)
        elif atype == ASSOC_RPLC or atype.endswith(":RPLC"):
            if src not in entry_ids:
                report.findings.append(
                    Finding(
                        "XDM-RPLC-001",
                        "error",
                        loc,
                        "Association RPLC dont la source n'est pas un DocumentEntry de l'archive.",
                        observed=src,
                    )
                )
                continue
            if tgt in entry_ids:
                report.findings.append(
                    Finding(
                        "XDM-RPLC-003",
                        "warning",
                        loc,
                        "Association RPLC vers un document du même envoi (le document remplacé est déjà connu).",
                    )
                )
            rplc_sources.setdefault(src or "", []).append(tgt or "")
    for eid in entry_ids:
        if ss_id and eid not in members:
            report.findings.append(
                Finding(
                    "XDM-ASSOC-001",
                    "warning",
                    f"{meta_path}#{eid}",
                    "DocumentEntry sans association HasMember depuis le SubmissionSet.",
                )
            )
    docs = {d.entry_id: d for d in insp.documents}
    for src, targets in rplc_sources.items():
        if len(targets) > 1:
            report.findings.append(
                Finding(
                    "XDM-RPLC-002",
                    "error",
                    f"{meta_path}#{src}",
                    f"{len(targets)} associations RPLC pour le même document : une seule version remplacée.",
                    observed=", ".join(targets),
                )
            )
        doc = docs.get(src)
        if doc is not None and doc.codes is not None and not doc.codes.replaces:
            report.findings.append(
                Finding(
                    "XDM-RPLC-004",
                    "error",
                    f"{meta_path}#{src}",
                    "Association RPLC mais le document CDA n'a pas de relatedDocument RPLC.",
                )
            )
    for doc in insp.documents:
        if doc.codes is not None and doc.codes.replaces and doc.entry_id not in rplc_sources:
            report.findings.append(
                Finding(
                    "XDM-RPLC-005",
                    "warning",
                    f"{meta_path}#{doc.entry_id}",
                    "Document CDA de remplacement (relatedDocument RPLC) sans association RPLC dans METADATA.XML.",
                )
            )


def validate_xdm(
    data: bytes,
    *,
    subject: str = "IHE_XDM.zip",
    limits: XdmLimits = DEFAULT_LIMITS,
    run_cda: bool = True,
    allowed_codes: Collection[str] | None = None,
) -> ValidationReport:
    """Validate an IHE_XDM archive (bytes)."""
    return inspect_xdm(data, subject=subject, limits=limits, run_cda=run_cda, allowed_codes=allowed_codes).report


__all__ = [
    "DEFAULT_LIMITS",
    "XdmDocument",
    "XdmInspection",
    "XdmLimits",
    "inspect_xdm",
    "parse_cx",
    "safe_unzip",
    "validate_xdm",
]
