"""The HTML report's content, without a browser: header, matrix, requirement sections, proofs, print CSS."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from segur_mss.verdicts import STATUS_LABELS

from .conftest import SECRET_TOKEN, build_synthetic_run


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Collector()
    parser.feed(html)
    return parser.tags


def test_report_is_self_contained(synthetic_run: Path) -> None:
    html = (synthetic_run / "report.html").read_text(encoding="utf-8")
    for tag, attrs in _tags(html):
        assert tag != "link", "feuille de style externe"
        if tag in ("script", "img", "iframe", "video", "audio", "source"):
            src = attrs.get("src") or ""
            assert not src or src.startswith("data:"), f"ressource externe {tag} {src}"
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html


def test_header_names_candidate_profile_env_versions_and_kit(synthetic_run: Path) -> None:
    html = (synthetic_run / "report.html").read_text(encoding="utf-8")
    header = html[html.index('<header id="entete">'):html.index("</header>")]
    for expected in ("faulty:synthetique", "tous les profils", "opérateur de référence embarqué",
                     "SEGUR-MSS-REF-0001", "segur-mss 0.1.0", "Catalogue des exigences",
                     "kit ANS 2025.01 (sha256 0123abcd)", "pytest", "aucun REM officiel importé"):
        assert expected in header, expected


def test_matrix_counts_statuses_in_french(synthetic_run: Path) -> None:
    html = (synthetic_run / "report.html").read_text(encoding="utf-8")
    for label in STATUS_LABELS.values():
        assert f">{label}</span>" in html
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', html))
    assert counts["passed"] == "0" and counts["failed"] == "1" and counts["error"] == "1"
    assert counts["awaiting_evidence"] == "1" and counts["not_applicable"] == "1"
    assert sum(int(v) for v in counts.values()) == 36
    assert 'id="filtre-statut"' in html and 'id="filtre-groupe"' in html and 'id="matrice-groupes"' in html


def test_requirement_section_shows_text_checks_and_every_kind_of_proof(synthetic_run: Path) -> None:
    html = (synthetic_run / "report.html").read_text(encoding="utf-8")
    section = html[html.index('id="SC.MSS_CONF.16"'):html.index('id="SC.MSS_CONF.17"')]
    assert "Libellé non officiel" in section
    assert "SEGUR-MSS-REF-0001" in section and "en-tête X-MSS-NIL absent" in section  # expected vs observed
    assert '<mark class="expurge"' in section  # the redaction is visible in the transcript excerpt
    assert '<tr class="x-mss"><td>X-MSS-NIL</td>' in section  # message headers, X-MSS-* highlighted
    assert 'href="evidence/SC.MSS_CONF.16/SC.MSS_CONF.16.01/01-smtp.log"' in section
    ux10 = html[html.index('id="SC.MSS_UX.10"'):]
    assert '<img src="data:image/png;base64,iVBORw0KGgo' in ux10  # embedded screenshot
    assert "attestation de l&#39;éditeur" in ux10 and "Je soussigné atteste" in ux10
    assert 'href="evidence/SC.MSS_UX.10/SC.MSS_UX.10.01/03-demo.webm"' in ux10
    conf14 = html[html.index('id="SC.MSS_CONF.14"'):html.index('id="SC.MSS_CONF.15"')]
    assert "MSS-CDA-INS-01" in conf14 and "INS absente du document" in conf14 and "avertissement" in conf14


def test_no_secret_reaches_the_report_or_results(synthetic_run: Path) -> None:
    for name in ("report.html", "results.json", "junit.xml"):
        text = (synthetic_run / name).read_text(encoding="utf-8")
        assert SECRET_TOKEN not in text, name
        assert "[EXPURGÉ]" in text, name


def test_print_css_and_incomplete_banner(tmp_path: Path) -> None:
    run_dir = tmp_path / "interrompue"
    results = build_synthetic_run(run_dir, complete=False)
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "@media print" in html and "beforeprint" in html
    assert 'id="incomplete"' in html and "Dossier incomplet" in html
    conf04 = next(r for r in results["requirements"] if r["id"] == "SC.MSS/CONF.04")
    assert conf04["status"] == "not_tested" and "interrompue" in conf04["reason"]
