"""What a static-analysis report says, read from bandit's JSON or any SARIF 2.1.0 log.

`parse()` detects the format from the content and returns a `Report`; anything malformed is an
`InputError` naming the file and the JSON path (`results[3].issue_severity`). The checked
readers (`obj`, `items`, `text`, ...) are shared with the SARIF reader in `sast_sarif.py`.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from sdl_tracker.errors import InputError
from sdl_tracker.models import Tool

HINT = "pass the report bandit wrote with `-f json`, or a SARIF 2.1.0 log"
_VERSION_IN_URL = re.compile(r"/en/(\d+\.\d+[^/]*)/")


class Level(str, enum.Enum):
    """bandit's severity and confidence scale."""

    UNDEFINED = "UNDEFINED"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Level.UNDEFINED: 0, Level.LOW: 1, Level.MEDIUM: 2, Level.HIGH: 3}


@dataclass(frozen=True)
class Finding:
    """One unsuppressed finding."""

    path: str
    """Repository-relative path, without bandit's leading `./`."""
    line: int
    rule: str
    """Rule id, e.g. `B602` or a semgrep rule id."""
    severity: Level
    confidence: Level
    message: str
    rule_name: str = ""
    help_uri: str = ""
    cwe: int | None = None
    end_line: int = 0
    column: int = 0
    """1-based start column; 0 when unknown."""
    end_column: int = 0
    snippet: str = ""


@dataclass(frozen=True)
class ScanError:
    """A file the tool could not analyse (or a tool-level error when `path` is empty)."""

    path: str
    reason: str


@dataclass(frozen=True)
class Report:
    """A parsed report: the tool, its unsuppressed findings, what it scanned and could not."""

    format: str
    """`bandit` (bandit's JSON) or `sarif`."""
    tool: Tool
    findings: tuple[Finding, ...]
    files_scanned: int
    errors: tuple[ScanError, ...]

    def count(self, level: Level) -> int:
        return sum(1 for f in self.findings if f.severity is level)


def load(data: bytes, source: str) -> Any:
    """Raw JSON of a report, or InputError with the line and column."""
    try:
        return json.loads(data)
    except json.JSONDecodeError as e:
        raise InputError(
            f"{source}: line {e.lineno} column {e.colno}: not valid JSON ({e.msg}); {HINT}"
        ) from e
    except UnicodeDecodeError as e:
        raise InputError(f"{source}: not UTF-8 text ({e.reason}); {HINT}") from e


def parse(data: bytes, source: str) -> Report:
    """Detect bandit JSON or SARIF from the content and read it."""
    from sdl_tracker.collectors import sast_sarif

    doc = load(data, source)
    if isinstance(doc, dict) and "runs" in doc:
        return sast_sarif.read(doc, source)
    if isinstance(doc, dict) and {"results", "errors", "metrics"} <= set(doc):
        return read_bandit(doc, source)
    fail(source, "", "a bandit JSON report (keys errors, metrics, results) or a SARIF log", doc)


def read_bandit(doc: Mapping[str, Any], source: str) -> Report:
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
        snippet=text(r.get("code", ""), source, f"{at}.code"),
    )


def _bandit_version(findings: Sequence[Finding]) -> str:
    """bandit's JSON carries no version, but every `more_info` link names the docs version."""
    for f in findings:
        match = _VERSION_IN_URL.search(f.help_uri)
        if match:
            return match.group(1)
    return "unknown"


def relpath(name: str) -> str:
    """A report's file name as a repository-relative path (bandit writes `./a.py`)."""
    while name.startswith("./"):
        name = name[2:]
    return name


def fail(source: str, at: str, expected: str, got: object) -> NoReturn:
    shown = json.dumps(got)[:60] if got is not None else "nothing"
    place = f"{at}: " if at else ""
    raise InputError(f"{source}: {place}expected {expected}, got {shown}; {HINT}")


def obj(value: object, source: str, at: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        fail(source, at, "an object", value)
    return value


def items(value: object, source: str, at: str) -> list[Any]:
    if not isinstance(value, list):
        fail(source, at, "an array", value)
    return value


def text(value: object, source: str, at: str) -> str:
    if not isinstance(value, str):
        fail(source, at, "a string", value)
    return value


def integer(value: object, source: str, at: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        fail(source, at, "an integer", value)
    return value


def level(value: object, source: str, at: str) -> Level:
    if value not in {m.value for m in Level}:
        fail(source, at, f"one of {', '.join(m.value for m in Level)}", value)
    return Level(value)
