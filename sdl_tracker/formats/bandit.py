"""bandit's `-f json` report as a `findings.Report`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sdl_tracker.formats.findings import (
    Finding,
    Report,
    ScanError,
    integer,
    items,
    level,
    obj,
    relpath,
    text,
)
from sdl_tracker.models import Tool

_VERSION_IN_URL = re.compile(r"/en/(\d+\.\d+[^/]*)/")
_NUMBERED = re.compile(r"\d+ ")


def read(doc: Mapping[str, Any], source: str) -> Report:
    """bandit's `-f json` report: `results` are unsuppressed findings, `errors` skipped files."""
    findings = tuple(
        _bandit_finding(obj(r, source, f"results[{i}]"), source, f"results[{i}]")
        for i, r in enumerate(items(doc["results"], source, "results"))
    )
    errors = []
    for i, e in enumerate(items(doc["errors"], source, "errors")):
        err = obj(e, source, f"errors[{i}]")
        path = text(err.get("filename"), source, f"errors[{i}].filename")
        reason = text(err.get("reason"), source, f"errors[{i}].reason")
        errors.append(ScanError(relpath(path), reason))
    metrics = obj(doc["metrics"], source, "metrics")
    for name, value in metrics.items():
        obj(value, source, f"metrics[{json.dumps(name)}]")
    failed = {e.path for e in errors}
    scanned = sum(1 for name in metrics if name != "_totals" and relpath(name) not in failed)
    return Report(
        format="bandit",
        tool=Tool("bandit", _bandit_version(findings)),
        findings=findings,
        files_scanned=scanned,
        errors=tuple(errors),
    )


def _bandit_finding(r: Mapping[str, Any], source: str, at: str) -> Finding:
    lines = items(r.get("line_range", []), source, f"{at}.line_range")
    line = integer(r.get("line_number"), source, f"{at}.line_number")
    cwe = r.get("issue_cwe")
    return Finding(
        path=relpath(text(r.get("filename"), source, f"{at}.filename")),
        line=line,
        rule=text(r.get("test_id"), source, f"{at}.test_id"),
        severity=level(r.get("issue_severity"), source, f"{at}.issue_severity"),
        confidence=level(r.get("issue_confidence"), source, f"{at}.issue_confidence"),
        message=text(r.get("issue_text"), source, f"{at}.issue_text"),
        rule_name=text(r.get("test_name", ""), source, f"{at}.test_name"),
        help_uri=text(r.get("more_info", ""), source, f"{at}.more_info"),
        cwe=integer(obj(cwe, source, f"{at}.issue_cwe").get("id"), source, f"{at}.issue_cwe.id")
        if cwe is not None
        else None,
        end_line=max([line, *(integer(n, source, f"{at}.line_range") for n in lines)]),
        column=integer(r.get("col_offset", -1), source, f"{at}.col_offset") + 1,
        end_column=integer(r.get("end_col_offset", -1), source, f"{at}.end_col_offset") + 1,
        snippet=code(text(r.get("code", ""), source, f"{at}.code")),
    )


def code(snippet: str) -> str:
    """bandit's `code` without the line number it puts before every line (`144 path = x`)."""
    lines = snippet.splitlines(keepends=True)
    numbered = [_NUMBERED.match(line) for line in lines]
    if not lines or not all(numbered):
        return snippet
    return "".join(line[m.end() :] for line, m in zip(lines, numbered) if m)


def _bandit_version(findings: Sequence[Finding]) -> str:
    """bandit's JSON carries no version, but every `more_info` link names the docs version."""
    for f in findings:
        match = _VERSION_IN_URL.search(f.help_uri)
        if match:
            return match.group(1)
    return "unknown"
