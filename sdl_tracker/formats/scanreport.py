"""A static-analysis report from its bytes: bandit's JSON or a SARIF 2.1.0 log, told apart by
their content."""

from __future__ import annotations

from typing import Any

from sdl_tracker.errors import InputError
from sdl_tracker.formats import bandit, sarif
from sdl_tracker.formats.findings import Report, fail, load


def written_by_sdl_tracker(doc: dict[str, Any]) -> bool:
    """Whether a SARIF log is sdl-tracker's export (never a scanner's findings to ingest)."""
    runs = doc.get("runs")
    return isinstance(runs, list) and any(
        isinstance(run, dict)
        and (
            (isinstance(run.get("properties"), dict) and "sdl-tracker" in run["properties"])
            or str((run.get("automationDetails") or {}).get("id", "")).startswith("sdl-tracker/")
        )
        for run in runs
    )


def parse(data: bytes, source: str) -> Report:
    """Detect bandit JSON or SARIF from the content and read it."""
    doc = load(data, source)
    if isinstance(doc, dict) and "runs" in doc:
        if written_by_sdl_tracker(doc):
            raise InputError(
                f"{source}: this is sdl-tracker's own SARIF export (its runs carry "
                "sdl-tracker properties), not a scan: give the report the scanner wrote"
            )
        return sarif.read(doc, source)
    if isinstance(doc, dict) and {"results", "errors", "metrics"} <= set(doc):
        return bandit.read(doc, source)
    fail(source, "", "a bandit JSON report (keys errors, metrics, results) or a SARIF log", doc)
