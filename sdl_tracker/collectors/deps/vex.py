"""VEX: statements that the product is `not_affected` by a vulnerability, and why.

Reads CycloneDX VEX (JSON, `vulnerabilities[].analysis.state`) and OpenVEX
(`statements[].status`). A statement applies to the vulnerability id and its aliases (CVE,
GHSA, PYSEC…) for the whole repository; when several statements name the same vulnerability,
the last one read decides (files in the configured order, statements in document order).
`not_affected` needs a justification (CycloneDX `analysis.justification` or `detail`, OpenVEX
`justification` or `impact_statement`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded

NOT_AFFECTED = "not_affected"
_CDX_STATES = (
    "resolved",
    "resolved_with_pedigree",
    "exploitable",
    "in_triage",
    "false_positive",
    "not_affected",
)
_CDX_JUSTIFICATIONS = (
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
)
_OPENVEX_STATUSES = ("not_affected", "affected", "fixed", "under_investigation")
_OPENVEX_JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)


@dataclass(frozen=True)
class Statement:
    """One VEX statement about one vulnerability."""

    ids: frozenset[str]
    """The vulnerability id and its aliases, upper-cased."""
    status: str
    justification: str
    source: str
    """`file: place`, e.g. `vex.json: vulnerabilities[0]`."""


@dataclass(frozen=True)
class Vex:
    statements: tuple[Statement, ...] = ()

    def decision(self, ids: Iterable[str]) -> Statement | None:
        """The statement that decides about a vulnerability known by any of `ids`."""
        wanted = {i.upper() for i in ids}
        found = [s for s in self.statements if s.ids & wanted]
        return found[-1] if found else None

    def not_affected(self, ids: Iterable[str]) -> Statement | None:
        decided = self.decision(ids)
        return decided if decided is not None and decided.status == NOT_AFFECTED else None


def load(files: Sequence[tuple[str, bytes]]) -> Vex:
    """Parse VEX documents given as (name, bytes); InputError naming the file and place."""
    statements: list[Statement] = []
    for name, raw in files:
        try:
            data: Any = bounded.json_loads(raw, name, "vex")
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InputError(
                f"{name}: not JSON ({e}); expected a CycloneDX or OpenVEX document"
            ) from e
        if isinstance(data, dict) and data.get("bomFormat") == "CycloneDX":
            statements.extend(_cyclonedx(data, name))
        elif isinstance(data, dict) and str(data.get("@context", "")).startswith(
            "https://openvex.dev/ns"
        ):
            statements.extend(_openvex(data, name))
        else:
            raise InputError(
                f"{name}: $: expected a CycloneDX VEX (`bomFormat: CycloneDX`) or an OpenVEX "
                "document (`@context: https://openvex.dev/ns/...`)"
            )
    return Vex(tuple(statements))


def _cyclonedx(data: dict[str, Any], name: str) -> list[Statement]:
    result = []
    for i, vuln in enumerate(_list(data.get("vulnerabilities", []), f"{name}: vulnerabilities")):
        place = f"{name}: vulnerabilities[{i}]"
        if not isinstance(vuln, dict):
            raise InputError(f"{place}: expected an object with `id` and `analysis`")
        ids = [_str(vuln.get("id"), f"{place}.id")]
        for j, ref in enumerate(_list(vuln.get("references", []), f"{place}.references")):
            if not isinstance(ref, dict):
                raise InputError(f"{place}.references[{j}]: expected an object with `id`")
            ids.append(_str(ref.get("id"), f"{place}.references[{j}].id"))
        analysis = vuln.get("analysis", {})
        if not isinstance(analysis, dict):
            raise InputError(f"{place}.analysis: expected an object with `state`")
        if "state" not in analysis:
            continue
        state = _choice(analysis.get("state"), _CDX_STATES, f"{place}.analysis.state")
        reason = ""
        if "justification" in analysis:
            reason = _choice(
                analysis["justification"], _CDX_JUSTIFICATIONS, f"{place}.analysis.justification"
            )
        detail = analysis.get("detail")
        if detail is not None:
            reason = ": ".join(filter(None, (reason, _str(detail, f"{place}.analysis.detail"))))
        if state == NOT_AFFECTED and not reason:
            raise InputError(
                f"{place}.analysis.justification: state not_affected needs a justification "
                f"(one of {', '.join(_CDX_JUSTIFICATIONS)}) or a detail"
            )
        result.append(Statement(frozenset(i.upper() for i in ids), state, reason, place))
    return result


def _openvex(data: dict[str, Any], name: str) -> list[Statement]:
    result = []
    for i, stmt in enumerate(_list(data.get("statements"), f"{name}: statements")):
        place = f"{name}: statements[{i}]"
        if not isinstance(stmt, dict):
            raise InputError(f"{place}: expected an object with `vulnerability` and `status`")
        ids = _openvex_ids(stmt.get("vulnerability"), f"{place}.vulnerability")
        status = _choice(stmt.get("status"), _OPENVEX_STATUSES, f"{place}.status")
        reason = ""
        if "justification" in stmt:
            reason = _choice(
                stmt["justification"], _OPENVEX_JUSTIFICATIONS, f"{place}.justification"
            )
        impact = stmt.get("impact_statement")
        if impact is not None:
            reason = ": ".join(filter(None, (reason, _str(impact, f"{place}.impact_statement"))))
        if status == NOT_AFFECTED and not reason:
            raise InputError(
                f"{place}.justification: status not_affected needs a justification "
                f"(one of {', '.join(_OPENVEX_JUSTIFICATIONS)}) or an impact_statement"
            )
        result.append(Statement(frozenset(i.upper() for i in ids), status, reason, place))
    return result


def _openvex_ids(value: Any, place: str) -> list[str]:
    if isinstance(value, str) and value:
        return [value]
    if not isinstance(value, dict):
        raise InputError(f"{place}: expected an object with `name` (e.g. CVE-2018-18074)")
    ids = [_str(value.get("name"), f"{place}.name")]
    ids.extend(
        _str(alias, f"{place}.aliases[{j}]")
        for j, alias in enumerate(_list(value.get("aliases", []), f"{place}.aliases"))
    )
    return ids


def _list(value: Any, place: str) -> list[Any]:
    if not isinstance(value, list):
        raise InputError(f"{place}: expected an array, got {value!r}")
    return value


def _str(value: Any, place: str) -> str:
    if not isinstance(value, str) or not value:
        raise InputError(f"{place}: expected a non-empty string, got {value!r}")
    return value


def _choice(value: Any, choices: Sequence[str], place: str) -> str:
    if value not in choices:
        raise InputError(f"{place}: expected one of {', '.join(choices)}, got {value!r}")
    return str(value)


def paths(root: Path, patterns: Sequence[str] | None) -> list[Path]:
    """VEX files: the configured paths/globs (a missing plain path is an error), or the
    defaults `vex.json` and `.vex/*.json` when present."""
    if patterns is None:
        found = [root / "vex.json"] if (root / "vex.json").is_file() else []
        return found + sorted(p for p in root.glob(".vex/*.json") if p.is_file())
    result: list[Path] = []
    for pattern in patterns:
        if any(c in pattern for c in "*?["):
            result.extend(sorted(p for p in root.glob(pattern) if p.is_file()))
        elif (root / pattern).is_file():
            result.append(root / pattern)
        else:
            raise InputError(f"[collectors.deps] vex: {pattern} does not exist in {root}")
    return list(dict.fromkeys(result))
