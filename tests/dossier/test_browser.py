"""The report in a real browser (Debian's headless Chromium through Playwright): the matrix and a requirement
section render, the filters work, the screenshot proof displays, print layout; screenshots are kept as artifacts
(in the test's tmp dir and in out/test-artifacts/)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from .conftest import ARTIFACTS, build_synthetic_run


def _open(browser: Any, report: Path) -> tuple[Any, list[str]]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    assert all(url.startswith(("file:", "data:")) for url in requests), requests  # nothing fetched from a network
    return page, errors


def _artifact(page: Any, tmp_path: Path, name: str, **kwargs: Any) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), **kwargs)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, ARTIFACTS / name)
    assert path.stat().st_size > 1000
    return path


def _visible_rows(page: Any) -> int:
    return page.locator("#matrice tbody tr:visible").count()


def test_matrix_section_and_filters_work_in_chromium(browser: Any, synthetic_run: Path, tmp_path: Path) -> None:
    page, errors = _open(browser, synthetic_run / "report.html")
    try:
        assert page.title().startswith("Dossier de conformité MSSanté")
        assert _visible_rows(page) == 36
        assert page.locator("#compte-visible").inner_text() == "36 exigence(s) affichée(s)"
        section = page.locator("#SC\\.MSS_CONF\\.16")
        assert section.is_visible()
        assert "SC.MSS/CONF.16" in section.locator("h3").inner_text()
        assert section.locator("table.checks tbody tr").count() == 2
        assert section.locator("mark.expurge").first.is_visible()
        _artifact(page, tmp_path, "rapport-matrice.png", full_page=False)

        page.select_option("#filtre-statut", "failed")
        assert _visible_rows(page) == 1
        assert page.locator("#matrice tbody tr:visible td").first.inner_text() == "SC.MSS/CONF.16"
        assert section.is_visible() and not page.locator("#SC\\.MSS_CONF\\.14").is_visible()
        assert page.locator("section.requirement:visible").count() == 1
        _artifact(page, tmp_path, "rapport-filtre-non-conforme.png", full_page=True)

        page.select_option("#filtre-statut", "")
        page.select_option("#filtre-groupe", "annuaire")
        groups = page.locator("#matrice tbody tr:visible td:nth-child(3)").all_inner_texts()
        assert groups and set(groups) == {"Interrogation de l'annuaire santé"}
        page.fill("#filtre-texte", "ux.10")
        assert _visible_rows(page) == 1

        page.click("#filtre-reset")
        assert _visible_rows(page) == 36
        page.click("#matrice-groupes a[data-filter-statut='error']")  # a count cell of the group matrix
        assert page.input_value("#filtre-statut") == "error" and _visible_rows(page) == 1

        page.click("#filtre-reset")
        image = page.locator("#SC\\.MSS_UX\\.10 figure.screenshot img")
        image.scroll_into_view_if_needed()
        assert image.evaluate("img => img.complete && img.naturalWidth") == 40
        _artifact(page, tmp_path, "rapport-exigence-ux10.png", clip=None, full_page=False)
        assert not errors, errors
    finally:
        page.close()


def test_print_layout_hides_filters_and_shows_every_section(browser: Any, synthetic_run: Path,
                                                             tmp_path: Path) -> None:
    page, errors = _open(browser, synthetic_run / "report.html")
    try:
        page.select_option("#filtre-statut", "failed")  # a reviewer filtered, then prints
        page.emulate_media(media="print")
        assert not page.locator(".filters").is_visible()
        assert page.locator("section.requirement:visible").count() == 36
        pdf = tmp_path / "rapport.pdf"
        page.pdf(path=str(pdf), format="A4")
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy2(pdf, ARTIFACTS / "rapport-impression.pdf")
        assert not errors, errors
    finally:
        page.close()


def test_real_campaign_report_and_incomplete_report_render(browser: Any, campaign_run: dict[str, Any],
                                                          tmp_path: Path) -> None:
    page, errors = _open(browser, campaign_run["out"] / "report.html")
    try:
        assert _visible_rows(page) == 36
        section = page.locator("#SC\\.MSS_CONF\\.16")
        section.scroll_into_view_if_needed()
        assert section.is_visible() and "conforme" in section.locator("header .badge").inner_text()
        assert not page.locator("#incomplete").count()
        _artifact(page, tmp_path, "rapport-campagne-conf16.png")
        assert not errors, errors
    finally:
        page.close()

    run_dir = tmp_path / "interrompue"
    build_synthetic_run(run_dir, complete=False)
    page, errors = _open(browser, run_dir / "report.html")
    try:
        assert page.locator("#incomplete").is_visible()
        assert "Dossier incomplet" in page.locator("#incomplete").inner_text()
        _artifact(page, tmp_path, "rapport-incomplet.png")
        assert not errors, errors
    finally:
        page.close()
