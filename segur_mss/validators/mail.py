"""MSSanté mail validator (stdlib ``email`` with ``policy.default``).

Small pure functions (``header_values``, ``check_x_mss_nil``…) usable one by one from scenario steps, and
:func:`validate_mail` which runs them all on a raw message. Requirement IDs: X-MSS-NIL ``SC.MSS/CONF.16``,
X-MSS-INS ``SC.MSS/CONF.14``, X-MSS-CODECDA ``SC.MSS/CONF.15``, X-MSS-MES ``SC.MSS/CONF.21``.
"""

from __future__ import annotations

import email
import email.errors
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.policy import default as default_policy
from email.utils import getaddresses, parseaddr

from .cda import PatientIdentity
from .model import Finding, ValidationReport, validator_version
from .xdm import DEFAULT_LIMITS, XdmInspection, XdmLimits, inspect_xdm

VALIDATOR = "segur-mss.mail"
VERSION = validator_version("mail")

REQ_INS = "SC.MSS/CONF.14"
REQ_CODECDA = "SC.MSS/CONF.15"
REQ_NIL = "SC.MSS/CONF.16"
REQ_MES = "SC.MSS/CONF.21"
PATIENT_DOMAIN = "patient.mssante.fr"
DDM_PREFIX = "XDM/1.0/DDM+"
DEFAULT_MAX_MAIL_BYTES = 120 * 1024 * 1024
MSG_ID_RE = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")
MSG_ID_FIND = re.compile(r"<[^<>\s]*>")
INS_LOCAL_RE = re.compile(r"^[0-9]{5}(?:[0-9]{2}|2[ABab])[0-9]{8}$")
SERIOUS_DEFECTS = (
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.CloseBoundaryNotFoundDefect,
    email.errors.MultipartInvariantViolationDefect,
    email.errors.NoBoundaryInMultipartDefect,
    email.errors.MissingHeaderBodySeparatorDefect,
)


def parse_message(raw: bytes | str | Message) -> EmailMessage:
    """Parse with ``policy.default`` (never raises on malformed input: defects are recorded on the parts)."""
    if isinstance(raw, EmailMessage):
        return raw
    if isinstance(raw, Message):
        return email.message_from_bytes(raw.as_bytes(), policy=default_policy)  # type: ignore[return-value]
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    return email.message_from_bytes(raw, policy=default_policy)  # type: ignore[return-value]


def header_values(msg: Message, name: str) -> list[str]:
    """Every occurrence of header ``name`` (unfolded, stripped); [] when absent or unparsable."""
    out: list[str] = []
    for value in msg.get_all(name, []) or []:
        try:
            text = str(value)
        except Exception:  # a header the policy cannot render
            text = ""
        out.append(" ".join(text.split()))
    return out


def _hf(rule: str, severity: str, header: str, message: str, requirement: str | None = None, **kw) -> Finding:
    return Finding(rule, severity, f"header:{header}", message, requirement, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- X-MSS-* headers


def check_x_mss_nil(msg: Message, expected: str | None = None) -> list[Finding]:
    """X-MSS-NIL on every sent mail; value = the product reference given on Convergence (``expected``)."""
    values = header_values(msg, "X-MSS-NIL")
    if not values:
        return [
            _hf(
                "MAIL-NIL-001",
                "error",
                "X-MSS-NIL",
                "En-tête X-MSS-NIL absent (obligatoire sur tout envoi).",
                REQ_NIL,
                expected=expected,
            )
        ]
    out: list[Finding] = []
    if len(values) > 1:
        out.append(
            _hf(
                "MAIL-NIL-002",
                "error",
                "X-MSS-NIL",
                f"En-tête X-MSS-NIL répété {len(values)} fois.",
                REQ_NIL,
                observed=" | ".join(values),
            )
        )
    value = values[0]
    if not value:
        out.append(_hf("MAIL-NIL-003", "error", "X-MSS-NIL", "En-tête X-MSS-NIL vide.", REQ_NIL))
    elif expected is not None and value != expected:
        out.append(
            _hf(
                "MAIL-NIL-004",
                "error",
                "X-MSS-NIL",
                "X-MSS-NIL différent de la référence produit déclarée sur Convergence.",
                REQ_NIL,
                expected=expected,
                observed=value,
            )
        )
    return out


@dataclass(frozen=True)
class CodeCdaHeader:
    """X-MSS-CODECDA as found: values and the form used."""

    values: tuple[str, ...]
    form: str  # "absent" | "single" | "repeated" | "comma" | "mixed"


def codecda_values(msg: Message) -> CodeCdaHeader:
    """Values of X-MSS-CODECDA whether repeated headers or a comma-separated list, and which form."""
    raw = header_values(msg, "X-MSS-CODECDA")
    if not raw:
        return CodeCdaHeader((), "absent")
    values = tuple(v.strip() for r in raw for v in r.split(",") if v.strip())
    commas = any("," in r for r in raw)
    if len(raw) > 1 and commas:
        form = "mixed"
    elif len(raw) > 1:
        form = "repeated"
    elif commas:
        form = "comma"
    else:
        form = "single"
    return CodeCdaHeader(values, form)


FORM_LABELS = {
    "single": "une seule valeur",
    "repeated": "en-têtes répétés (une valeur par en-tête)",
    "comma": "liste séparée par des virgules",
    "mixed": "en-têtes répétés contenant des listes",
}


def check_x_mss_codecda(msg: Message, cda_codes: Sequence[str]) -> list[Finding]:
    """X-MSS-CODECDA = the CDA codes of the XDM; absent without CDA. The form used is reported (info)."""
    header = codecda_values(msg)
    out: list[Finding] = []
    if not cda_codes:
        if header.form != "absent":
            out.append(
                _hf(
                    "MAIL-CODECDA-001",
                    "error",
                    "X-MSS-CODECDA",
                    "X-MSS-CODECDA présent alors que le message ne contient aucun document CDA dans un IHE_XDM.",
                    REQ_CODECDA,
                    observed=", ".join(header.values),
                )
            )
        return out
    if header.form == "absent":
        return [
            _hf(
                "MAIL-CODECDA-002",
                "error",
                "X-MSS-CODECDA",
                "En-tête X-MSS-CODECDA absent alors que l'IHE_XDM contient des documents CDA.",
                REQ_CODECDA,
                expected=", ".join(cda_codes),
            )
        ]
    out.append(
        _hf(
            "MAIL-CODECDA-004",
            "info",
            "X-MSS-CODECDA",
            f"Forme de X-MSS-CODECDA : {FORM_LABELS[header.form]}.",
            REQ_CODECDA,
            observed=header.form,
        )
    )
    if set(header.values) != set(cda_codes):
        out.append(
            _hf(
                "MAIL-CODECDA-003",
                "error",
                "X-MSS-CODECDA",
                "Valeurs de X-MSS-CODECDA différentes des codes des documents CDA de l'IHE_XDM.",
                REQ_CODECDA,
                expected=", ".join(cda_codes),
                observed=", ".join(header.values),
            )
        )
    elif sorted(header.values) != sorted(cda_codes):
        out.append(
            _hf(
                "MAIL-CODECDA-005",
                "warning",
                "X-MSS-CODECDA",
                "Même ensemble de codes mais nombre d'occurrences différent du nombre de documents CDA.",
                REQ_CODECDA,
                expected=", ".join(cda_codes),
                observed=", ".join(header.values),
            )
        )
    return out


def expected_x_mss_ins(identities: Sequence[PatientIdentity]) -> str | None:
    """``O`` when every CDA carries an INS with all its traits, ``N`` otherwise; None without CDA."""
    if not identities:
        return None
    return "O" if all(i.complete for i in identities) else "N"


def check_x_mss_ins(msg: Message, identities: Sequence[PatientIdentity]) -> list[Finding]:
    """X-MSS-INS on a mail with CDA: ``O`` for a qualified INS (INS + traits), ``N`` otherwise."""
    values = header_values(msg, "X-MSS-INS")
    expected = expected_x_mss_ins(identities)
    out: list[Finding] = []
    if expected is None:
        if values:
            out.append(
                _hf(
                    "MAIL-INS-002",
                    "warning",
                    "X-MSS-INS",
                    "X-MSS-INS présent sans document CDA.",
                    REQ_INS,
                    observed=values[0],
                )
            )
        return out
    if not values:
        return [
            _hf(
                "MAIL-INS-001",
                "error",
                "X-MSS-INS",
                "En-tête X-MSS-INS absent alors que le message contient un CDA.",
                REQ_INS,
                expected=expected,
            )
        ]
    if len(values) > 1:
        out.append(
            _hf("MAIL-INS-006", "error", "X-MSS-INS", "En-tête X-MSS-INS répété.", REQ_INS, observed=" | ".join(values))
        )
    value = values[0]
    if value not in ("O", "N"):
        out.append(
            _hf(
                "MAIL-INS-003",
                "error",
                "X-MSS-INS",
                f"X-MSS-INS « {value} » : O ou N attendu.",
                REQ_INS,
                expected="O | N",
                observed=value,
            )
        )
    elif value != expected:
        reason = (
            "les documents portent un INS avec tous ses traits"
            if expected == "O"
            else "aucun INS qualifié complet dans les documents (INS absent ou traits manquants)"
        )
        out.append(
            _hf(
                "MAIL-INS-004",
                "error",
                "X-MSS-INS",
                f"X-MSS-INS « {value} » incohérent : {reason}.",
                REQ_INS,
                expected=expected,
                observed=value,
            )
        )
    if len({i.complete for i in identities}) > 1:
        out.append(
            _hf(
                "MAIL-INS-005",
                "warning",
                "X-MSS-INS",
                "Documents du même message avec des identités de complétude différente.",
                REQ_INS,
            )
        )
    return out


def _recipients(msg: Message) -> list[str]:
    values: list[str] = []
    for name in ("To", "Cc", "Bcc"):
        values.extend(header_values(msg, name))
    return [addr for _, addr in getaddresses(values) if addr]


def check_x_mss_mes(msg: Message, *, required: bool = False) -> list[Finding]:
    """X-MSS-MES, when present, is exactly ``FIN`` (three capital letters); ``required`` for closing scenarios."""
    values = header_values(msg, "X-MSS-MES")
    raw_values = [str(v) for v in msg.get_all("X-MSS-MES", []) or []]
    if not values:
        if required:
            return [
                _hf(
                    "MAIL-MES-001",
                    "error",
                    "X-MSS-MES",
                    "En-tête X-MSS-MES: FIN attendu (fin d'échange avec le patient).",
                    REQ_MES,
                    expected="FIN",
                )
            ]
        return []
    out: list[Finding] = []
    if len(values) > 1:
        out.append(
            _hf("MAIL-MES-004", "error", "X-MSS-MES", "En-tête X-MSS-MES répété.", REQ_MES, observed=" | ".join(values))
        )
    if raw_values[0] != "FIN":
        out.append(
            _hf(
                "MAIL-MES-002",
                "error",
                "X-MSS-MES",
                f"X-MSS-MES « {raw_values[0]} » : exactement « FIN » attendu.",
                REQ_MES,
                expected="FIN",
                observed=raw_values[0],
            )
        )
    if not any(a.lower().endswith("@" + PATIENT_DOMAIN) for a in _recipients(msg)):
        out.append(
            _hf(
                "MAIL-MES-003",
                "warning",
                "X-MSS-MES",
                f"X-MSS-MES sur un message sans destinataire patient (@{PATIENT_DOMAIN}).",
                REQ_MES,
            )
        )
    return out


def check_subject(msg: Message, *, has_documents: bool) -> list[Finding]:
    """Subject ``XDM/1.0/DDM+<libellé> <NOM> <prénom> <date de naissance>`` on document mails."""
    values = header_values(msg, "Subject")
    if not values:
        return [_hf("MAIL-SUBJ-003", "warning", "Subject", "Objet (Subject) absent.")]
    subject = values[0]
    if not has_documents:
        return []
    if not subject.startswith(DDM_PREFIX):
        return [
            _hf(
                "MAIL-SUBJ-001",
                "warning",
                "Subject",
                f"Objet d'un envoi de documents sans le préfixe « {DDM_PREFIX} ».",
                expected=DDM_PREFIX + "<libellé> <NOM> <prénom> <date de naissance>",
                observed=subject,
            )
        ]
    if len(subject[len(DDM_PREFIX) :].split()) < 4:
        return [
            _hf(
                "MAIL-SUBJ-002",
                "warning",
                "Subject",
                "Objet incomplet : libellé, NOM, prénom et date de naissance attendus après le préfixe.",
                observed=subject,
            )
        ]
    return []


def check_identification_headers(msg: Message) -> list[Finding]:
    """From (with a display name), Date, Message-ID, In-Reply-To and References syntax (RFC 5322)."""
    out: list[Finding] = []
    froms = header_values(msg, "From")
    if not froms:
        out.append(_hf("MAIL-HDR-002", "error", "From", "En-tête From absent."))
    else:
        name, addr = parseaddr(froms[0])
        if not addr or "@" not in addr:
            out.append(_hf("MAIL-HDR-002", "error", "From", "Adresse d'expéditeur illisible.", observed=froms[0]))
        elif not name.strip():
            out.append(
                _hf("MAIL-HDR-003", "warning", "From", "Expéditeur sans nom affiché explicite.", observed=froms[0])
            )
    if not header_values(msg, "Date"):
        out.append(_hf("MAIL-HDR-001", "error", "Date", "En-tête Date absent."))
    ids = header_values(msg, "Message-ID")
    if not ids:
        out.append(_hf("MAIL-ID-001", "error", "Message-ID", "En-tête Message-ID absent."))
    else:
        if len(ids) > 1:
            out.append(_hf("MAIL-ID-001", "error", "Message-ID", "En-tête Message-ID répété."))
        if not MSG_ID_RE.match(ids[0]):
            out.append(
                _hf(
                    "MAIL-ID-002",
                    "error",
                    "Message-ID",
                    "Message-ID mal formé (<partie-gauche@domaine>).",
                    observed=ids[0],
                )
            )
    irt = header_values(msg, "In-Reply-To")
    refs = header_values(msg, "References")
    irt_ids = MSG_ID_FIND.findall(" ".join(irt))
    ref_ids = MSG_ID_FIND.findall(" ".join(refs))
    if irt and (not irt_ids or not all(MSG_ID_RE.match(i) for i in irt_ids)):
        out.append(_hf("MAIL-ID-003", "error", "In-Reply-To", "In-Reply-To mal formé.", observed=irt[0]))
    if refs and (not ref_ids or not all(MSG_ID_RE.match(i) for i in ref_ids)):
        out.append(_hf("MAIL-ID-004", "error", "References", "References mal formé.", observed=refs[0]))
    if irt_ids and ref_ids and irt_ids[-1] != ref_ids[-1]:
        out.append(
            _hf(
                "MAIL-ID-005",
                "warning",
                "References",
                "References devrait se terminer par l'identifiant du message auquel on répond (In-Reply-To).",
                expected=irt_ids[-1],
                observed=ref_ids[-1],
            )
        )
    if irt_ids and not refs:
        out.append(_hf("MAIL-ID-005", "warning", "References", "Réponse (In-Reply-To) sans en-tête References."))
    return out


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    return disposition == "attachment" or bool(part.get_filename())


def check_text_parts(msg: Message) -> list[Finding]:
    """Top-level Content-Type and the charset of text parts (UTF-8; US-ASCII accepted as a subset)."""
    out: list[Finding] = []
    ctype = msg.get_content_type()
    if ctype not in ("multipart/mixed", "multipart/alternative", "text/plain", "multipart/related"):
        out.append(
            Finding(
                "MAIL-CT-001",
                "warning",
                "part:1",
                f"Content-Type principal « {ctype} » inhabituel (text/plain, "
                "multipart/alternative ou multipart/mixed attendu).",
                observed=ctype,
            )
        )
    texts = 0
    for index, part in enumerate(msg.walk(), start=1):
        if part.is_multipart() or part.get_content_maintype() != "text" or _is_attachment(part):
            continue
        texts += 1
        loc = f"part:{index} ({part.get_content_type()})"
        charset = (part.get_content_charset() or "us-ascii").lower()
        if charset not in ("utf-8", "utf8", "us-ascii"):
            out.append(
                Finding(
                    "MAIL-TEXT-001",
                    "error",
                    loc,
                    f"Partie texte en « {charset} » : UTF-8 attendu.",
                    expected="utf-8",
                    observed=charset,
                )
            )
            continue
        try:
            payload = part.get_payload(decode=True) or b""
            payload.decode("utf-8")
        except (UnicodeDecodeError, LookupError, AssertionError) as exc:
            out.append(Finding("MAIL-TEXT-002", "error", loc, f"Partie texte non décodable en UTF-8 : {exc}."))
    if texts == 0:
        out.append(Finding("MAIL-TEXT-003", "warning", "part:1", "Aucune partie texte lisible dans le message."))
    return out


def check_mime_defects(msg: Message) -> list[Finding]:
    """Structural MIME defects found by the parser."""
    out: list[Finding] = []
    for index, part in enumerate(msg.walk(), start=1):
        for defect in getattr(part, "defects", []):
            serious = isinstance(defect, SERIOUS_DEFECTS)
            out.append(
                Finding(
                    "MAIL-MIME-001" if serious else "MAIL-MIME-002",
                    "error" if serious else "warning",
                    f"part:{index}",
                    f"Structure MIME défectueuse : {type(defect).__name__}"
                    + (f" ({defect})" if str(defect) else "")
                    + ".",
                )
            )
    return out


def xdm_attachments(msg: Message) -> list[tuple[str, bytes]]:
    """(filename, bytes) of IHE_XDM archives: attachments named IHE_XDM.zip, or any application/zip part."""
    out: list[tuple[str, bytes]] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = part.get_filename() or ""
        ctype = part.get_content_type()
        if name.lower() == "ihe_xdm.zip" or ctype in ("application/zip", "application/x-zip-compressed"):
            try:
                data = part.get_payload(decode=True)
            except Exception:
                data = None
            if isinstance(data, bytes):
                out.append((name or "IHE_XDM.zip", data))
    return out


def check_patient_addresses(msg: Message, identities: Sequence[PatientIdentity]) -> list[Finding]:
    """Patient addresses (``<INS>@patient.mssante.fr``) only from a qualified INS, the one in the documents."""
    out: list[Finding] = []
    patients = [a for a in _recipients(msg) if a.lower().endswith("@" + PATIENT_DOMAIN)]
    qualified = {i.ins for i in identities if i.complete}
    for addr in patients:
        local = addr.rsplit("@", 1)[0]
        if not INS_LOCAL_RE.match(local):
            out.append(
                Finding(
                    "MAIL-PAT-001",
                    "error",
                    "header:To",
                    f"Adresse patient « {addr} » : le matricule "
                    "INS (15 caractères) est attendu avant @patient.mssante.fr.",
                    observed=addr,
                )
            )
        elif identities and local not in qualified:
            ins_in_docs = {i.ins for i in identities if i.ins}
            reason = (
                "l'INS du document n'est pas qualifié (traits manquants)"
                if local in ins_in_docs
                else "aucun document du message ne porte cet INS"
            )
            out.append(
                Finding(
                    "MAIL-PAT-002",
                    "error",
                    "header:To",
                    f"Adresse patient « {addr} » non construite à partir d'un INS qualifié : {reason}.",
                    observed=addr,
                )
            )
    return out


def check_one_patient(identities: Sequence[PatientIdentity], patient_ids: Sequence[str] = ()) -> list[Finding]:
    """One patient per message: same INS (or same identifiers) across documents and XDM patientIds."""
    keys = {i.ins or (sorted(i.other_ids)[0][1] if i.other_ids else None) for i in identities}
    keys.discard(None)
    out: list[Finding] = []
    if len(keys) > 1:
        out.append(
            Finding(
                "MAIL-PAT-003",
                "error",
                "attachments",
                "Documents de plusieurs patients dans le même message (un seul patient par message).",
                observed=", ".join(sorted(map(str, keys))),
            )
        )
    if len(set(patient_ids)) > 1:
        out.append(
            Finding(
                "MAIL-PAT-003",
                "error",
                "attachments",
                "Plusieurs patientId dans les IHE_XDM du message.",
                observed=", ".join(sorted(set(patient_ids))),
            )
        )
    return out


# --------------------------------------------------------------------------- full validation


@dataclass
class MailInspection:
    report: ValidationReport
    message: EmailMessage | None = None
    xdm: list[XdmInspection] = field(default_factory=list)

    @property
    def cda_codes(self) -> list[str]:
        return [c for x in self.xdm for c in x.cda_codes]

    @property
    def identities(self) -> list[PatientIdentity]:
        return [i for x in self.xdm for i in x.identities]


def inspect_mail(
    raw: bytes | Message,
    *,
    subject: str = "message",
    expected_nil: str | None = None,
    require_mes: bool = False,
    limits: XdmLimits = DEFAULT_LIMITS,
    max_bytes: int = DEFAULT_MAX_MAIL_BYTES,
) -> MailInspection:
    report = ValidationReport(VALIDATOR, VERSION, subject)
    insp = MailInspection(report)
    if isinstance(raw, bytes | bytearray) and len(raw) > max_bytes:
        report.findings.append(
            Finding(
                "MAIL-SIZE-001",
                "error",
                "/",
                f"Message trop volumineux ({len(raw)} octets, limite {max_bytes}) : non analysé.",
            )
        )
        return insp
    if isinstance(raw, bytes | bytearray) and not bytes(raw).strip():
        report.findings.append(Finding("MAIL-MIME-001", "error", "/", "Message vide."))
        return insp
    try:
        msg = parse_message(raw if isinstance(raw, Message) else bytes(raw))
    except Exception as exc:  # the parser is lenient; this is a last resort
        report.findings.append(Finding("MAIL-MIME-001", "error", "/", f"Message illisible : {exc}."))
        return insp
    insp.message = msg
    report.extend(check_mime_defects(msg))
    if not msg.keys():
        report.findings.append(
            Finding("MAIL-MIME-001", "error", "/", "Aucun en-tête : ce n'est pas un message RFC 5322.")
        )
        return insp
    for name, data in xdm_attachments(msg):
        x = inspect_xdm(data, subject=name, limits=limits)
        insp.xdm.append(x)
        report.extend(
            Finding(
                f.rule_id, f.severity, f"{name}!{f.location}", f.message, f.requirement, f.line, f.expected, f.observed
            )
            for f in x.report.findings
        )
    identities = insp.identities
    report.extend(check_identification_headers(msg))
    report.extend(check_x_mss_nil(msg, expected_nil))
    report.extend(check_x_mss_codecda(msg, insp.cda_codes))
    report.extend(check_x_mss_ins(msg, identities))
    report.extend(check_x_mss_mes(msg, required=require_mes))
    report.extend(check_subject(msg, has_documents=bool(insp.xdm)))
    report.extend(check_text_parts(msg))
    report.extend(check_patient_addresses(msg, identities))
    report.extend(check_one_patient(identities, [p for x in insp.xdm for p in x.submission_patient_ids]))
    header = codecda_values(msg)
    report.extra.update(
        {
            "message_id": (header_values(msg, "Message-ID") or [None])[0],
            "xdm_attachments": [x.report.subject for x in insp.xdm],
            "cda_codes": insp.cda_codes,
            "x_mss_codecda_form": header.form,
            "expected_x_mss_ins": expected_x_mss_ins(identities),
        }
    )
    return insp


def validate_mail(
    raw: bytes | Message,
    *,
    expected_nil: str | None = None,
    subject: str = "message",
    require_mes: bool = False,
    limits: XdmLimits = DEFAULT_LIMITS,
    max_bytes: int = DEFAULT_MAX_MAIL_BYTES,
) -> ValidationReport:
    """All MSSanté mail checks on a raw message (and its IHE_XDM attachments)."""
    return inspect_mail(
        raw, subject=subject, expected_nil=expected_nil, require_mes=require_mes, limits=limits, max_bytes=max_bytes
    ).report


__all__ = [
    "CodeCdaHeader",
    "MailInspection",
    "check_identification_headers",
    "check_mime_defects",
    "check_one_patient",
    "check_patient_addresses",
    "check_subject",
    "check_text_parts",
    "check_x_mss_codecda",
    "check_x_mss_ins",
    "check_x_mss_mes",
    "check_x_mss_nil",
    "codecda_values",
    "expected_x_mss_ins",
    "header_values",
    "inspect_mail",
    "parse_message",
    "validate_mail",
    "xdm_attachments",
]
