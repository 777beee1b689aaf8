"""The support policy's machine-readable part: YAML front matter of `docs/support-policy.md`.

The CRA asks for a support period of at least five years (unless the product's expected use is
shorter, which the manufacturer justifies) and an end date users can see (Art. 13(8), Annex II).
The front matter declares it per release line (format: docs/cra.md):

    ---
    support_policy: 1
    support_period:
      justification: ...        # why a line's period is shorter than five years, when one is
    release_lines:
      - line: "2.x"
        versions: ">=2.0,<3"      # PEP 440 specifier, matched against release tags (v2.1.0)
        first_release: 2026-06-15
        end_of_support: 2031-06-15
    ---

`read()` parses it (bad input raises InputError naming the file and the key); `check()` is pure:
lines, release tags and the date → what to flag. Years are calendar years (29 February maps to
28 February): counting days / 365.25 would call exactly five years short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded
from sdl_tracker.models import JSON

MINIMUM_YEARS = 5
_TOP = ("support_policy", "product", "support_period", "updates_kept_available_years")
_LINE = ("line", "versions", "first_release", "end_of_support", "support", "justification")


@dataclass(frozen=True)
class Line:
    """One release line and its declared support."""

    name: str
    versions: str
    first_release: date
    end_of_support: date | None
    justification: str = ""
    """Why this line's period is shorter than five years (or the policy's general one)."""


@dataclass(frozen=True)
class Policy:
    lines: tuple[Line, ...]
    justification: str = ""


@dataclass(frozen=True)
class Flagged:
    """What `check()` found: per line and per release tag."""

    rows: tuple[dict[str, JSON], ...]
    no_end: tuple[str, ...]
    """Release tags without an end-of-support date (in no line, or a line without one)."""
    short: tuple[str, ...]
    """Lines shorter than five calendar years without a justification."""


def front_matter(text: str, name: str) -> str | None:
    """The YAML between a first line `---` and the next line `---`, or None without one."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    for i, current in enumerate(lines[1:], start=1):
        if current.strip() in ("---", "..."):
            return "\n".join(lines[1:i])
    raise InputError(f"{name}: line 1: front matter opened by '---' is never closed by '---'")


def read(text: str, name: str) -> Policy | None:
    """The declared support policy, or None when the document has no front matter."""
    block = front_matter(text, name)
    if block is None:
        return None
    try:
        data = bounded.yaml_load(block, name, "support_policy")
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        place = f"line {mark.line + 2}" if mark else "front matter"
        raise InputError(f"{name}: {place}: not valid YAML ({getattr(e, 'problem', e)})") from e
    except ValueError as e:  # PyYAML builds dates itself: 2024-13-01 raises here
        raise InputError(
            f"{name}: front matter: a value is not what it looks like ({e}); dates are YYYY-MM-DD"
        ) from e
    if not isinstance(data, dict):
        raise InputError(f"{name}: front matter: expected a mapping with `release_lines:`")
    _known(data, _TOP + ("release_lines",), name, "front matter")
    period = data.get("support_period") or {}
    if not isinstance(period, dict):
        raise InputError(f"{name}: support_period: expected a mapping")
    raw = data.get("release_lines")
    if not isinstance(raw, list) or not raw:
        raise InputError(
            f"{name}: release_lines: expected a list with one entry per release line "
            "(line, versions, first_release, end_of_support)"
        )
    lines = tuple(_line(item, name, f"release_lines[{i}]") for i, item in enumerate(raw))
    return Policy(lines=lines, justification=_text(period.get("justification")))


def _line(item: Any, name: str, where: str) -> Line:
    if not isinstance(item, dict):
        raise InputError(f"{name}: {where}: expected a mapping")
    _known(item, _LINE, name, where)
    versions = item.get("versions")
    try:
        SpecifierSet(str(versions))
    except InvalidSpecifier:
        versions = None
    if not isinstance(versions, str) or not versions:
        raise InputError(
            f"{name}: {where}.versions: expected a version specifier such as '>=2.0,<3', "
            f"got {item.get('versions')!r}"
        )
    first = _date(item.get("first_release"), name, f"{where}.first_release")
    if first is None:
        raise InputError(
            f"{name}: {where}.first_release: give the date of the line's first release"
        )
    return Line(
        name=_text(item.get("line")) or versions,
        versions=versions,
        first_release=first,
        end_of_support=_date(item.get("end_of_support"), name, f"{where}.end_of_support"),
        justification=_text(item.get("justification")),
    )


def _known(data: dict[Any, Any], keys: Sequence[str], name: str, where: str) -> None:
    unknown = sorted(str(k) for k in data if k not in keys)
    if unknown:
        raise InputError(f"{name}: {where}: unknown key {unknown[0]!r} (known: {', '.join(keys)})")


def _date(value: Any, name: str, where: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(f"{name}: {where}: expected a date YYYY-MM-DD, got {value!r}")


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def plus_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def check(policy: Policy, tags: Sequence[str], today: date) -> Flagged:
    """Flag lines shorter than five years without a justification, and release tags that no
    line with an end-of-support date covers."""
    rows: list[dict[str, JSON]] = []
    short: list[str] = []
    covered: dict[str, Line] = {}
    for line in policy.lines:
        spec = SpecifierSet(line.versions)
        its: list[JSON] = [t for t in tags if (v := _version(t)) is not None and v in spec]
        covered.update({str(t): line for t in its if t not in covered})
        flags: list[JSON] = []
        end = line.end_of_support
        needed = plus_years(line.first_release, MINIMUM_YEARS)
        justified = line.justification or policy.justification
        if end is None:
            flags.append("no end-of-support date")
        elif end < needed and not justified:
            flags.append(
                f"ends {end.isoformat()}, before {needed.isoformat()} (five years after its "
                "first release), and no justification is given"
            )
            short.append(line.name)
        rows.append(
            {
                "line": line.name,
                "versions": line.versions,
                "first_release": line.first_release.isoformat(),
                "end_of_support": end.isoformat() if end else None,
                "five_years": end is not None and end >= needed,
                "justification": justified if end is not None and end < needed else None,
                "state": "no end date" if end is None else "supported" if end >= today else "ended",
                "tags": [*its],
                "flags": [*flags],
            }
        )
    no_end = tuple(t for t in tags if t not in covered or covered[t].end_of_support is None)
    return Flagged(rows=tuple(rows), no_end=no_end, short=tuple(short))


def _version(tag: str) -> Version | None:
    try:
        return Version(tag[1:] if tag[:1] in ("v", "V") else tag)
    except InvalidVersion:
        return None
