"""Offline OSV database: find the records of the packages needed and match exact versions.

A database is a directory of OSV records (JSON or YAML, one record per file, any layout): the
PyPA advisory database (`vulns/<package>/PYSEC-*.yaml`) or an unpacked OSV PyPI export (flat
`*.json`). Only the records of the packages being audited are parsed: a directory whose first
record names the directory's package is a package directory and is read only when that package
is wanted; files elsewhere are read when their text mentions a wanted name.
Matching follows the OSV schema: `affected[].versions`, and ECOSYSTEM ranges evaluated over
the sorted `introduced` / `fixed` / `last_affected` events with PEP 440 versions.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from sdl_tracker.collectors.deps.pins import Pin
from sdl_tracker.collectors.deps.pipaudit import Dependency, Report, Vuln
from sdl_tracker.collectors.deps.severity import Severity, from_osv
from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded
from sdl_tracker.models import format_time

_SUFFIXES = (".json", ".yaml", ".yml")
_EVENTS = ("introduced", "fixed", "last_affected", "limit")
# Every YAML scalar stays a string: `fixed: 2.10` must not become the float 2.1.


@dataclass(frozen=True)
class Affected:
    """One `affected[]` entry for a PyPI package."""

    package: str
    """Canonical (PEP 503) name."""
    ranges: tuple[tuple[tuple[str, str], ...], ...]
    """ECOSYSTEM ranges, each a tuple of (event kind, version)."""
    versions: tuple[str, ...]
    severity: tuple[tuple[str, str], ...] = ()
    """This package's own `severity` entries (type, score), when the record scores per package."""


@dataclass(frozen=True)
class Record:
    id: str
    aliases: tuple[str, ...]
    summary: str
    withdrawn: bool
    affected: tuple[Affected, ...]
    severity: tuple[tuple[str, str], ...] = ()
    """The record's `severity` entries: (type, score), e.g. ("CVSS_V3", "CVSS:3.1/AV:N/…")."""

    def severity_of(self, name: str, where: str) -> Severity:
        """The CVSS score for package `name` (canonical), from the record found in `where`."""
        entries = [
            *self.severity,
            *(e for a in self.affected if a.package == name for e in a.severity),
        ]
        return from_osv(entries, f"OSV record {self.id} ({where})")


@dataclass(frozen=True)
class Database:
    """Identity of a database directory (cheap: names, sizes and times, not contents)."""

    path: Path
    files: int
    fingerprint: str
    newest: str


def identify(db: Path) -> Database:
    """Fingerprint the record files; InputError when there is no database with records."""
    if not db.is_dir():
        raise InputError(f"{db}: OSV database directory not found (--osv-db / osv_db)")
    digest, count, newest = hashlib.sha256(), 0, 0
    for path in _record_files(db):
        stat = path.stat()
        digest.update(f"{path.relative_to(db)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        count, newest = count + 1, max(newest, stat.st_mtime_ns)
    if not count:
        raise InputError(f"{db}: no OSV records (*.json, *.yaml) in this directory")
    when = format_time(datetime.fromtimestamp(newest / 1e9, timezone.utc))
    return Database(db, count, digest.hexdigest(), when)


def audit(db: Path, pins: Sequence[Pin]) -> Report:
    """Match each pinned dependency against the database; unpinned ones come back skipped."""
    wanted = {canonicalize_name(p.name) for p in pins if p.version is not None}
    records = _load(db, wanted)
    return Report(tuple(_dependency(pin, records) for pin in pins))


def _dependency(pin: Pin, records: dict[str, list[Record]]) -> Dependency:
    if pin.version is None:
        kind = "a URL, path or editable requirement" if pin.url else "not pinned to a version"
        return Dependency(pin.name, None, (), f"{kind} ({pin.spec}, {pin.origin})")
    name = canonicalize_name(pin.name)
    vulns, problems = [], []
    for record in records.get(name, []):
        try:
            fixes = affects(record, name, pin.version)
        except InvalidVersion as e:
            problems.append(f"{record.id}: cannot compare versions ({e})")
            continue
        if fixes is not None:
            severity = record.severity_of(name, "the offline OSV database")
            vulns.append(Vuln(record.id, record.aliases, fixes, record.summary, severity))
    skip = "; ".join(problems) or None
    return Dependency(pin.name, pin.version, tuple(vulns), skip)


def affects(record: Record, name: str, version: str) -> tuple[str, ...] | None:
    """The fix versions when `record` affects `name` at `version`, else None.

    Raises InvalidVersion when a range cannot be evaluated for a non-PEP 440 version.
    """
    if record.withdrawn:
        return None
    entries = [a for a in record.affected if a.package == name]
    hit = any(_listed(version, a.versions) for a in entries)
    parsed: Version | None = None
    for entry in entries:
        for events in entry.ranges:
            parsed = parsed or Version(version)
            hit = hit or _in_range(parsed, events)
    if not hit:
        return None
    fixes = {v for a in entries for r in a.ranges for kind, v in r if kind == "fixed"}
    return tuple(sorted(fixes, key=_sort_key))


def _listed(version: str, versions: Sequence[str]) -> bool:
    if version in versions:
        return True
    try:
        parsed = Version(version)
    except InvalidVersion:
        return False
    return any(_same(parsed, v) for v in versions)


def _same(parsed: Version, text: str) -> bool:
    try:
        return Version(text) == parsed
    except InvalidVersion:
        return False


def _in_range(version: Version, events: Sequence[tuple[str, str]]) -> bool:
    """The OSV evaluation: walk the events sorted by version; the last applicable one wins."""
    ordered = sorted(
        ((Version(v), kind) for kind, v in events if kind != "limit"), key=lambda e: e[0]
    )
    vulnerable = False
    for at, kind in ordered:
        if kind == "introduced" and at <= version:
            vulnerable = True
        elif kind == "fixed" and at <= version:
            vulnerable = False
        elif kind == "last_affected" and at < version:
            vulnerable = False
    return vulnerable


def _sort_key(text: str) -> tuple[int, Version | str]:
    try:
        return (0, Version(text))
    except InvalidVersion:
        return (1, text)


def _record_files(db: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(db):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(_SUFFIXES) and not name.startswith("."):
                yield Path(dirpath) / name


def _load(db: Path, wanted: Collection[str]) -> dict[str, list[Record]]:
    found: dict[str, dict[str, Record]] = {}
    for path in candidates(db, wanted):
        for record in parse(path):
            for entry in record.affected:
                if entry.package in wanted:
                    found.setdefault(entry.package, {}).setdefault(record.id, record)
    return {name: list(by_id.values()) for name, by_id in found.items()}


def candidates(db: Path, wanted: Collection[str]) -> list[Path]:
    """The record files that may concern the wanted (canonical) package names."""
    if not wanted:
        return []
    mention = re.compile(
        r"(?<![A-Za-z0-9])(?:" + "|".join(map(_pattern, sorted(wanted))) + r")(?![A-Za-z0-9])",
        re.IGNORECASE,
    )
    by_dir: dict[Path, list[Path]] = {}
    for path in _record_files(db):
        by_dir.setdefault(path.parent, []).append(path)
    result: list[Path] = []
    for directory, files in by_dir.items():
        package = canonicalize_name(directory.name)
        if directory != db and _names(files[0], package):
            result.extend(files if package in wanted else ())
        else:
            result.extend(f for f in files if mention.search(_text(f)))
    return result


def _pattern(name: str) -> str:
    return "[-_.]+".join(map(re.escape, name.split("-")))


def _names(path: Path, package: str) -> bool:
    """Does this record's text declare `package` as an affected package name?"""
    pat = _pattern(package)
    field = re.compile(
        rf"\"name\"\s*:\s*\"{pat}\"|^[ \t-]*name:[ \t]*['\"]?{pat}['\"]?[ \t]*$",
        re.IGNORECASE | re.MULTILINE,
    )
    return bool(field.search(_text(path)))


def _text(path: Path) -> str:
    try:
        return bounded.read(path, "advisory").decode("utf-8", "replace")
    except OSError as e:
        raise InputError(f"{path}: cannot read the OSV record: {e}") from e


def parse(path: Path) -> list[Record]:
    """The PyPI-relevant content of one record file (a record, or an array of records)."""
    text = _text(path)
    try:
        data = (
            bounded.json_loads(text, str(path), "advisory")
            if path.suffix == ".json"
            else bounded.yaml_load(text, str(path), "advisory", yaml.BaseLoader)
        )
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise InputError(f"{path}: not valid {path.suffix[1:].upper()}: {e}") from e
    if isinstance(data, list):
        return [_record(item, f"{path}: [{i}]") for i, item in enumerate(data)]
    return [_record(data, f"{path}: $")]


def from_json(data: Any, place: str) -> Record:
    """One OSV record (its PyPI-relevant content); InputError naming `place` when malformed."""
    return _record(data, place)


def _record(data: Any, place: str) -> Record:
    if not isinstance(data, dict):
        raise InputError(f"{place}: expected an OSV record (an object with `id`)")
    return Record(
        id=_str(data.get("id"), f"{place}.id"),
        aliases=_strs(data.get("aliases", []), f"{place}.aliases"),
        summary=" ".join(str(data.get("summary") or data.get("details") or "").split()),
        withdrawn=bool(data.get("withdrawn")),
        affected=tuple(
            a
            for i, item in enumerate(_list(data.get("affected", []), f"{place}.affected"))
            if (a := _affected(item, f"{place}.affected[{i}]")) is not None
        ),
        severity=_severity(data.get("severity", []), f"{place}.severity"),
    )


def _affected(data: Any, place: str) -> Affected | None:
    if not isinstance(data, dict):
        raise InputError(f"{place}: expected an object with `package`")
    package = data.get("package")
    if package is None:
        return None
    if not isinstance(package, dict):
        raise InputError(f"{place}.package: expected an object with `name` and `ecosystem`")
    ecosystem = _str(package.get("ecosystem"), f"{place}.package.ecosystem")
    name = _str(package.get("name"), f"{place}.package.name")
    if ecosystem.split(":")[0] != "PyPI":
        return None
    ranges = []
    for i, item in enumerate(_list(data.get("ranges", []), f"{place}.ranges")):
        where = f"{place}.ranges[{i}]"
        if not isinstance(item, dict):
            raise InputError(f"{where}: expected an object with `type` and `events`")
        events = tuple(
            _event(e, f"{where}.events[{j}]")
            for j, e in enumerate(_list(item.get("events"), f"{where}.events"))
        )
        if _str(item.get("type"), f"{where}.type") == "ECOSYSTEM":
            ranges.append(events)
    versions = _strs(data.get("versions", []), f"{place}.versions")
    severity = _severity(data.get("severity", []), f"{place}.severity")
    return Affected(canonicalize_name(name), tuple(ranges), versions, severity)


def _severity(data: Any, place: str) -> tuple[tuple[str, str], ...]:
    """`severity: [{type, score}]` as (type, score) pairs (the vector is scored later)."""
    entries = []
    for i, item in enumerate(_list(data, place)):
        if not isinstance(item, dict):
            raise InputError(f"{place}[{i}]: expected an object with `type` and `score`")
        typ = _str(item.get("type"), f"{place}[{i}].type")
        entries.append((typ, _str(item.get("score"), f"{place}[{i}].score")))
    return tuple(entries)


def _event(data: Any, place: str) -> tuple[str, str]:
    if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in _EVENTS:
        raise InputError(f"{place}: expected one of {', '.join(_EVENTS)} with a version")
    ((kind, value),) = data.items()
    return kind, _str(value, f"{place}.{kind}")


def _list(value: Any, place: str) -> list[Any]:
    if not isinstance(value, list):
        raise InputError(f"{place}: expected an array, got {value!r}")
    return value


def _str(value: Any, place: str) -> str:
    if not isinstance(value, str) or not value:
        raise InputError(f"{place}: expected a non-empty string, got {value!r}")
    return value


def _strs(value: Any, place: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{place}: expected an array of strings, got {value!r}")
    return tuple(value)
