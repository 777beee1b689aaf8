"""pip-audit: run the real tool, and read its JSON report (`-f json`) into frozen records.

pip-audit exits 0 when every dependency was *skipped* (e.g. the PyPI JSON API is unreachable
or answers 404), exits 1 with a report when it found vulnerabilities, and exits 1 without a
report (a traceback on stderr) when the service cannot be reached at all. `run` tells these
apart; the caller decides what they mean.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from sdl_tracker.collectors.deps.severity import Severity
from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded
from sdl_tracker.models import JSON

_TOTAL_TIMEOUT = 1800  # seconds for a whole run; `--timeout` bounds each request
_UNREACHABLE = re.compile(
    r"ConnectionError|ProxyError|ConnectTimeout|Connection refused|Failed to resolve|"
    r"Name or service not known|Max retries exceeded|Could not connect|timed out"
)


@dataclass(frozen=True)
class Vuln:
    """A known vulnerability of one dependency version."""

    id: str
    aliases: tuple[str, ...] = ()
    fix_versions: tuple[str, ...] = ()
    description: str = ""
    severity: Severity | None = None
    """Its CVSS score, from the OSV record the audit used (pip-audit's JSON does not carry it)."""

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)


@dataclass(frozen=True)
class Dependency:
    """A dependency as audited: its version and vulnerabilities, or why it was skipped."""

    name: str
    version: str | None
    vulns: tuple[Vuln, ...] = ()
    skip_reason: str | None = None


@dataclass(frozen=True)
class Report:
    """pip-audit's JSON report (also what the offline OSV matcher produces)."""

    dependencies: tuple[Dependency, ...]

    def to_json(self) -> bytes:
        deps: list[JSON] = []
        for d in self.dependencies:
            entry: dict[str, JSON] = {"name": d.name}
            if d.version is not None:
                entry["version"] = d.version
                entry["vulns"] = [
                    {
                        "id": v.id,
                        "fix_versions": list(v.fix_versions),
                        "aliases": list(v.aliases),
                        "description": v.description,
                    }
                    for v in d.vulns
                ]
            if d.skip_reason is not None:
                entry["skip_reason"] = d.skip_reason
            deps.append(entry)
        return json.dumps({"dependencies": deps, "fixes": []}, indent=1).encode()


def rated(report: Report, rate: Callable[[Dependency, Vuln], Severity]) -> Report:
    """The same report with each vulnerability's severity set by `rate`."""
    return Report(
        tuple(
            replace(d, vulns=tuple(replace(v, severity=rate(d, v)) for v in d.vulns))
            for d in report.dependencies
        )
    )


@dataclass(frozen=True)
class Ran:
    """pip-audit finished and wrote its report."""

    report: Report
    raw: bytes
    exit_code: int


@dataclass(frozen=True)
class Failed:
    """pip-audit wrote no usable report."""

    reason: str
    exit_code: int | None
    unreachable: bool = False


def version() -> str:
    """The installed pip-audit's version, or `not installed`."""
    try:
        return metadata.version("pip-audit")
    except metadata.PackageNotFoundError:
        return "not installed"


def run(arguments: Sequence[str], cwd: Path, timeout: int) -> Ran | Failed:
    """Run `python -m pip_audit -f json -o FILE ARGUMENTS` in `cwd` with its own cache."""
    with tempfile.TemporaryDirectory(prefix="sdl-pip-audit-") as tmp:
        out = Path(tmp) / "pip-audit.json"
        command = [
            *(sys.executable, "-m", "pip_audit", "-f", "json", "-o", str(out)),
            *("--progress-spinner", "off", "--timeout", str(timeout)),
            *("--cache-dir", str(Path(tmp) / "cache"), *arguments),
        ]
        try:
            proc = subprocess.run(
                command, cwd=cwd, capture_output=True, timeout=_TOTAL_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            return Failed(f"pip-audit did not finish within {_TOTAL_TIMEOUT} s", None, True)
        except OSError as e:
            return Failed(f"cannot run {sys.executable}: {e}", None)
        stderr = proc.stderr.decode("utf-8", "replace")
        if proc.returncode in (0, 1) and out.is_file():
            raw = out.read_bytes()
            try:
                return Ran(parse(raw, "pip-audit's report"), raw, proc.returncode)
            except InputError as e:
                return Failed(f"pip-audit wrote a report that cannot be read: {e}", 1)
        return _failure(stderr, proc.returncode)


def _failure(stderr: str, code: int) -> Failed:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    last = lines[-1] if lines else f"exit code {code}, no output"
    if "No module named pip_audit" in stderr:
        return Failed(
            f"pip-audit is not installed for {sys.executable} (pip install pip-audit)", code
        )
    if _UNREACHABLE.search(stderr):
        return Failed(f"vulnerability service unreachable ({_cause(last)})", code, True)
    return Failed(f"pip-audit failed (exit {code}): {last[:240]}", code)


def _cause(line: str) -> str:
    """`host:port: reason` from a requests/urllib3 error line, else the line itself."""
    host = re.search(r"host='([^']+)', port=(\d+)", line)
    errno = re.findall(r"\[Errno -?\d+\] ([^'\")]+)", line)
    if host and (errno or "timed out" in line):
        reason = errno[-1].strip() if errno else "timed out"
        proxy = " (via the proxy)" if "ProxyError" in line else ""
        return f"{host.group(1)}:{host.group(2)}{proxy}: {reason}"
    return re.sub(r"^\S*(?:Error|Exception): ", "", line)[:240]


def parse(raw: bytes, where: str) -> Report:
    """Read a pip-audit `-f json` report; InputError naming the JSON path of any problem."""
    try:
        data: Any = bounded.json_loads(raw, where, "report")
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{where}: not JSON ({e}); expected pip-audit's `-f json` report") from e
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        raise InputError(
            f"{where}: $: expected an object with a `dependencies` array "
            "(the output of `pip-audit -f json`)"
        )
    return Report(
        tuple(
            _dependency(d, f"{where}: dependencies[{i}]")
            for i, d in enumerate(data["dependencies"])
        )
    )


def _dependency(data: Any, place: str) -> Dependency:
    if not isinstance(data, dict):
        raise InputError(f"{place}: expected an object with `name` and `version` or `skip_reason`")
    name = _string(data, "name", place)
    skip = _optional(data, "skip_reason", place)
    version = (
        _optional(data, "version", place) if skip is not None else _string(data, "version", place)
    )
    vulns = data.get("vulns", [] if skip is not None else None)
    if not isinstance(vulns, list):
        raise InputError(f"{place}.vulns: expected an array of vulnerabilities, got {vulns!r}")
    return Dependency(
        name, version, tuple(_vuln(v, f"{place}.vulns[{i}]") for i, v in enumerate(vulns)), skip
    )


def _vuln(data: Any, place: str) -> Vuln:
    if not isinstance(data, dict):
        raise InputError(f"{place}: expected an object with `id` and `fix_versions`")
    return Vuln(
        id=_string(data, "id", place),
        aliases=_strings(data, "aliases", place),
        fix_versions=_strings(data, "fix_versions", place),
        description=_optional(data, "description", place, empty=True) or "",
    )


def _string(data: dict[str, Any], key: str, place: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(f"{place}.{key}: expected a non-empty string, got {value!r}")
    return value


def _optional(data: dict[str, Any], key: str, place: str, *, empty: bool = False) -> str | None:
    value = data.get(key)
    if value is None or (empty and value == ""):
        return None
    return _string(data, key, place)


def _strings(data: dict[str, Any], key: str, place: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{place}.{key}: expected an array of strings, got {value!r}")
    return tuple(value)
