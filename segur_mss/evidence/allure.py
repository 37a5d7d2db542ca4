"""Allure results of the campaign (written by allure-pytest-bdd into `<run>/allure-results/`).

Two additions to what allure-pytest-bdd writes by itself:
- the requirement of each scenario as a label (`requirement`) and a link (to its section of the run's
  report.html, relative to an Allure report generated in `<run>/allure-report/`), as marks set where the Gherkin
  tags become marks;
- redaction: every result and container goes through the process's redactor before allure writes it (messages and
  tracebacks may quote what the candidate sent). This runs in the process that produced the result, so under
  pytest-xdist each worker redacts with the secrets its own operator issued.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from segur_mss.evidence.store import atomic_write
from segur_mss.redaction import REDACTOR, Redactor

try:
    from allure_commons import hookimpl as _allure_hookimpl
    from allure_commons import plugin_manager as _allure_plugins
except ImportError:  # allure not installed: the campaign runs without Allure results
    _allure_hookimpl = None
    _allure_plugins = None


def _tryfirst(function: Any) -> Any:
    """Before AllureFileLogger serialises the object."""
    return _allure_hookimpl(tryfirst=True)(function) if _allure_hookimpl else function


def _trylast(function: Any) -> Any:
    """After AllureFileLogger wrote the file."""
    return _allure_hookimpl(trylast=True)(function) if _allure_hookimpl else function


ALLURE_DIR = "allure-results"
LABEL = "requirement"


def requirement_anchor(requirement_id: str) -> str:
    """The id of a requirement's section in report.html."""
    return requirement_id.replace("/", "_")


def requirement_marks(requirement_id: str) -> list[pytest.MarkDecorator]:
    """Allure marks (label + link) for a scenario of this requirement."""
    return [
        pytest.mark.allure_label(requirement_id, label_type=LABEL),
        pytest.mark.allure_link(f"../report.html#{requirement_anchor(requirement_id)}", name=requirement_id,
                                link_type="link"),
    ]


def _redact(value: Any, redactor: Redactor, depth: int = 0) -> Any:
    if depth > 20:
        return value
    if isinstance(value, str):
        return redactor.text(value)
    if isinstance(value, list):
        return [_redact(v, redactor, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: _redact(v, redactor, depth + 1) for k, v in value.items()}
    fields = getattr(type(value), "__attrs_attrs__", None)
    if fields is not None:
        for attribute in fields:
            try:
                setattr(value, attribute.name, _redact(getattr(value, attribute.name), redactor, depth + 1))
            except (AttributeError, TypeError):
                continue
    return value


class AllureRedaction:
    """allure-commons plugin: redact results and containers before the file logger writes them, and attachments
    (captured logs and output) right after it wrote them, in the same process."""

    def __init__(self, report_dir: Path | None, redactor: Redactor = REDACTOR) -> None:
        self.report_dir = report_dir
        self.redactor = redactor

    @_tryfirst
    def report_result(self, result: Any) -> None:
        _redact(result, self.redactor)

    @_tryfirst
    def report_container(self, container: Any) -> None:
        _redact(container, self.redactor)

    @_trylast
    def report_attached_data(self, body: Any, file_name: str) -> None:
        self._redact_file(file_name)

    @_trylast
    def report_attached_file(self, source: Any, file_name: str) -> None:
        self._redact_file(file_name)

    def _redact_file(self, file_name: str) -> None:
        if self.report_dir is None:
            return
        path = self.report_dir / file_name
        try:
            raw = path.read_bytes()
            raw.decode("utf-8")
        except (OSError, UnicodeDecodeError):  # binary attachments (images) carry no text secret
            return
        redacted = self.redactor.bytes(raw)
        if redacted != raw:
            atomic_write(path, redacted)


def install_allure_redaction(config: pytest.Config) -> None:
    """Register the redaction with allure-commons (when allure is installed); undone at config cleanup."""
    if _allure_plugins is None:
        return
    name = f"segur-mss-redaction-{id(config)}"
    report_dir = getattr(config.option, "allure_report_dir", None)
    if _allure_plugins.get_plugin(name) is None:
        _allure_plugins.register(AllureRedaction(Path(report_dir).absolute() if report_dir else None), name=name)
        config.add_cleanup(lambda: _allure_plugins.unregister(name=name))
