"""What a static-analysis report says: findings, scan errors, the tool — whatever the format.

The readers of bandit's JSON (`bandit.py`) and SARIF (`sarif.py`) build these records; anything
malformed is an `InputError` naming the file and the JSON path (`results[3].issue_severity`),
raised by the checked readers here (`obj`, `items`, `text`, ...).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded
from sdl_tracker.models import Tool

HINT = "pass the report bandit wrote with `-f json`, or a SARIF 2.1.0 log"


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
        return bounded.json_loads(data, source, "report")
    except json.JSONDecodeError as e:
        raise InputError(
            f"{source}: line {e.lineno} column {e.colno}: not valid JSON ({e.msg}); {HINT}"
        ) from e
    except UnicodeDecodeError as e:
        raise InputError(f"{source}: not UTF-8 text ({e.reason}); {HINT}") from e


def relpath(name: str) -> str:
    """A report's file name as a repository-relative path (bandit writes `./a.py`)."""
    while name.startswith("./"):
        name = name[2:]
    return name


def fail(source: str, at: str, expected: str, got: object) -> NoReturn:
    """InputError at `at`, quoting at most 60 characters of the value found there; never the
    whole document (`at` empty): a JSON file that is no report at all (credentials?) must not
    land in a CI log."""
    if got is None:
        shown = "nothing"
    elif not at:
        keys = [k[:30] for k in sorted(got)[:5]] if isinstance(got, dict) else []
        shown = f"an object with keys {', '.join(keys)}" if keys else f"a {type(got).__name__}"
        shown += " (content not shown)"
    else:
        shown = json.dumps(got)[:60]
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
