"""A static-analysis report from its bytes: bandit's JSON or a SARIF 2.1.0 log, told apart by
their content."""

from __future__ import annotations

from sdl_tracker.formats import bandit, sarif
from sdl_tracker.formats.findings import Report, fail, load


def parse(data: bytes, source: str) -> Report:
    """Detect bandit JSON or SARIF from the content and read it."""
    doc = load(data, source)
    if isinstance(doc, dict) and "runs" in doc:
        return sarif.read(doc, source)
    if isinstance(doc, dict) and {"results", "errors", "metrics"} <= set(doc):
        return bandit.read(doc, source)
    fail(source, "", "a bandit JSON report (keys errors, metrics, results) or a SARIF log", doc)
