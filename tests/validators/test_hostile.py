"""Hostile inputs generated here: each gives a clear finding, never a crash, a hang or a file written."""

from __future__ import annotations

import io
import os
import stat
import time
import zipfile
from pathlib import Path

import pytest

from segur_mss.documents import PATIENTS, build_xdm, make_cda
from segur_mss.documents.mail import DEFAULT_NIL, build_document_mail
from segur_mss.documents.xdm import build_xdm_entries, zip_entries
from segur_mss.validators.cda import validate_cda
from segur_mss.validators.mail import validate_mail
from segur_mss.validators.xdm import XdmLimits, validate_xdm

P = PATIENTS["qualifie"]
CDA_OPEN = b'<ClinicalDocument xmlns="urn:hl7-org:v3">'


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def only_errors(report) -> set[str]:
    return report.rule_ids("error")


# ---------------------------------------------------------------------------------------------- XML


def test_xxe_is_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    xml = (
        (
            f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{secret}">'
            '<!ENTITY net SYSTEM "http://127.0.0.1:9/x">]>'
        ).encode()
        + CDA_OPEN
        + b"<title>&xxe;&net;</title></ClinicalDocument>"
    )
    report = validate_cda(xml)
    assert "CDA-XML-DTD" in only_errors(report)
    assert "TOP-SECRET" not in str(report.to_dict())


def test_billion_laughs() -> None:
    ents = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE d [{ents}]>'.encode() + CDA_OPEN + b"<title>&lol9;</title></ClinicalDocument>"
    )
    with Timer() as t:
        report = validate_cda(xml)
    assert t.seconds < 2
    assert only_errors(report) == {"CDA-XML-DTD"}


def test_deep_nesting() -> None:
    depth = 100_000
    xml = CDA_OPEN + b"<a>" * depth + b"</a>" * depth + b"</ClinicalDocument>"
    with Timer() as t:
        report = validate_cda(xml)
    assert t.seconds < 5
    assert only_errors(report) == {"CDA-XML-DEPTH"}


@pytest.mark.parametrize(
    "data,rule",
    [
        (
            b'<?xml version="1.0" encoding="ISO-8859-1"?>'
            + CDA_OPEN
            + "<title>é</title>".encode("latin-1")
            + b"</ClinicalDocument>",
            "CDA-XML-ENCODING",
        ),
        (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            + CDA_OPEN
            + "<title>é</title>".encode("latin-1")
            + b"</ClinicalDocument>",
            "CDA-XML-WELLFORMED",
        ),
        (
            '<?xml version="1.0" encoding="UTF-16"?><ClinicalDocument xmlns="urn:hl7-org:v3"/>'.encode("utf-16"),
            "CDA-XML-ENCODING",
        ),
        (b'<?xml version="1.0" encoding="X-NOPE"?><a/>', "CDA-XML-WELLFORMED"),
        (b"\x00\xff\xfe garbage", "CDA-XML-WELLFORMED"),
        (b"", "CDA-XML-WELLFORMED"),
        (b"<ClinicalDocument", "CDA-XML-WELLFORMED"),
    ],
)
def test_non_utf8_and_garbage(data: bytes, rule: str) -> None:
    assert rule in only_errors(validate_cda(data))


def test_oversized_xml_is_not_parsed() -> None:
    report = validate_cda(make_cda(P).xml, max_bytes=1000)
    assert only_errors(report) == {"CDA-XML-SIZE"}


# ---------------------------------------------------------------------------------------------- zip


def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return buf.getvalue()


def test_zip_bomb_ratio() -> None:
    bomb = _zip([("IHE_XDM/SUBSET01/DOC0001.XML", b"\0" * (40 * 1024 * 1024))])
    assert len(bomb) < 100_000
    with Timer() as t:
        report = validate_xdm(bomb)
    assert t.seconds < 5
    assert "XDM-ZIP-007" in only_errors(report)


def test_zip_bomb_total_size() -> None:
    chunk = b"A" * (1024 * 1024)
    archive = _zip([(f"f{i}.bin", chunk) for i in range(8)])
    report = validate_xdm(archive, limits=XdmLimits(max_total_bytes=4 * 1024 * 1024, max_ratio=10_000))
    assert "XDM-ZIP-006" in only_errors(report)


def test_zip_slip_and_symlinks(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("IHE_XDM/SUBSET01/LINK.XML")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    entries = [(n, d) for n, d in build_xdm_entries([make_cda(P)], P)]
    entries += [("../evil.txt", b"x"), ("/etc/evil", b"x"), ("IHE_XDM/../../evil", b"x"), ("C:\\evil.txt", b"x")]
    archive = _zip([*entries, (link, b"/etc/passwd")])
    cwd = set(os.listdir("."))
    report = validate_xdm(archive)
    zip_findings = [f for f in report.findings if f.rule_id in ("XDM-ZIP-004", "XDM-ZIP-005")]
    assert {f.location for f in zip_findings} == {
        "../evil.txt",
        "/etc/evil",
        "IHE_XDM/../../evil",
        "C:\\evil.txt",
        "IHE_XDM/SUBSET01/LINK.XML",
    }
    assert set(os.listdir(".")) == cwd and not (tmp_path.parent / "evil.txt").exists()
    assert not any(f.rule_id.startswith("XDM-DOC") for f in report.errors)  # the real document was still read


def test_too_many_entries() -> None:
    archive = _zip([(f"e{i}", b"") for i in range(1500)])
    assert only_errors(validate_xdm(archive)) == {"XDM-ZIP-003"}


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04 truncated", b"not a zip at all", b"PK\x05\x06" + b"\0" * 18])
def test_not_a_zip(data: bytes) -> None:
    report = validate_xdm(data)
    assert not report.valid and report.errors[0].rule_id in ("XDM-ZIP-001", "XDM-LAYOUT-001")


def test_truncated_real_archive() -> None:
    archive = build_xdm([make_cda(P)], P)
    report = validate_xdm(archive[: len(archive) // 2])
    assert "XDM-ZIP-001" in only_errors(report)


def test_hostile_cda_inside_xdm() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        + CDA_OPEN
        + (b"<title>&x;</title></ClinicalDocument>")
    )
    entries = [(n, xxe if n.endswith("DOC0001.XML") else d) for n, d in build_xdm_entries([make_cda(P)], P)]
    report = validate_xdm(zip_entries(entries))
    assert {"CDA-XML-DTD", "XDM-DOC-005"} <= only_errors(report)
    assert "root:" not in str(report.to_dict())


# ---------------------------------------------------------------------------------------------- mail


def test_50_mb_attachment() -> None:
    msg = build_document_mail([make_cda(P)], P)
    msg.add_attachment(os.urandom(50 * 1024 * 1024), maintype="application", subtype="pdf", filename="gros.pdf")
    raw = msg.as_bytes()
    with Timer() as t:
        report = validate_mail(raw, expected_nil=DEFAULT_NIL)
    assert t.seconds < 60
    assert report.valid, [str(f) for f in report.errors]


def test_50_mb_fake_xdm() -> None:
    msg = build_document_mail([make_cda(P)], P, xdm=os.urandom(50 * 1024 * 1024))
    report = validate_mail(msg.as_bytes())
    assert "XDM-ZIP-001" in only_errors(report)


def test_mail_size_limit() -> None:
    raw = build_document_mail([make_cda(P)], P).as_bytes()
    assert only_errors(validate_mail(raw, max_bytes=1000)) == {"MAIL-SIZE-001"}


MALFORMED = {
    "unterminated multipart": (
        b"From: a@b.fr\r\nMessage-ID: <1@b.fr>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XYZ"\r\n\r\n--XYZ\r\nContent-Type: text/plain\r\n\r\nbody\r\n'
    ),
    "multipart without boundary": (
        b"From: a@b.fr\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\nno parts\r\n"
    ),
    "boundary never used": (b'From: a@b.fr\r\nContent-Type: multipart/mixed; boundary="NOPE"\r\n\r\njust text\r\n'),
    "garbage header lines": b"From a@b.fr\r\n: empty name\r\n\x00\xff\xfe\r\nX-MSS-NIL\r\n\r\nbody",
    "binary junk": os.urandom(4096),
    "empty": b"",
    "bad base64 and charset": (
        b"From: a@b.fr\r\nX-MSS-NIL: REF\r\nContent-Type: text/plain; charset=klingon\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n"
    ),
    "encoded-word abuse": b"From: =?utf-8?q?=FF=FE?= <a@b.fr>\r\nSubject: =?x-unknown?b?////?=\r\n\r\nx",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_mime_gives_findings(name: str) -> None:
    with Timer() as t:
        report = validate_mail(MALFORMED[name], subject=name)
    assert t.seconds < 5
    assert not report.valid and report.errors
    assert all(f.message for f in report.findings)
