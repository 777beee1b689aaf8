"""Threagile model YAML (the input file `threagile` reads).

Threagile computes most of its risks by running its rules, which sdl-tracker does not do. What
the file itself records is counted: every risk under `individual_risk_categories`, with the
status of the `risk_tracking` entry that matches its synthetic id (`*` wildcards between `@`),
and every other `risk_tracking` entry as one tracked threat with its own status. Status
mapping: mitigated -> mitigated; accepted, false-positive -> accepted; unchecked,
in-discussion, in-progress or untracked -> open. A mitigated tracking entry is a mitigation;
`Tests:` / `Requirements:` lines in its justification link it.
"""

from __future__ import annotations

from typing import Any

from sdl_tracker.formats.threatmodel.model import (
    STRIDE,
    AcceptedRisk,
    Asset,
    Component,
    Mitigation,
    ModelFormat,
    System,
    Threat,
    ThreatModel,
    ThreatStatus,
    TrustBoundary,
    refs_from_text,
    stride,
)
from sdl_tracker.formats.threatmodel.source import Source, mapping, text

STATUSES = {
    "unchecked": ThreatStatus.OPEN,
    "in-discussion": ThreatStatus.OPEN,
    "in-progress": ThreatStatus.OPEN,
    "mitigated": ThreatStatus.MITIGATED,
    "accepted": ThreatStatus.ACCEPTED,
    "false-positive": ThreatStatus.ACCEPTED,
}
_RELEVANT = (
    "most_relevant_technical_asset",
    "most_relevant_communication_link",
    "most_relevant_trust_boundary",
    "most_relevant_shared_runtime",
    "most_relevant_data_asset",
)


def is_threagile(data: Any) -> bool:
    return isinstance(data, dict) and "threagile_version" in data


def load(src: Source) -> ThreatModel:
    root = mapping(src, src.data, [], "a Threagile model")
    tracking = _tracking(src, root)
    threats: list[Threat] = []
    keys: list[str | None] = []
    used: set[str] = set()
    categories = mapping(
        src, root.get("individual_risk_categories") or {}, ["individual_risk_categories"], "risks"
    )
    for title, category in categories.items():
        cpath: list[str | int] = ["individual_risk_categories", title]
        category = mapping(src, category, cpath, "a risk category")
        cat_id = text(src, category.get("id"), [*cpath, "id"], "the category id", required=True)
        kind = stride(text(src, category.get("stride"), [*cpath, "stride"], "the STRIDE category"))
        risks = mapping(
            src, category.get("risks_identified") or {}, [*cpath, "risks_identified"], "risks"
        )
        for risk_title, risk in risks.items():
            rpath = [*cpath, "risks_identified", risk_title]
            risk = mapping(src, risk, rpath, "an identified risk")
            parts = [cat_id] + [
                text(src, risk.get(k), [*rpath, k], k) for k in _RELEVANT if risk.get(k)
            ]
            synthetic = "@".join(parts)
            key = _tracked(tracking, synthetic)
            if key is not None:
                used.add(key)
            keys.append(key)
            threats.append(
                Threat(
                    id=synthetic,
                    title=_plain(str(risk_title)),
                    category=kind if kind in STRIDE else "",
                    status=tracking[key][0] if key else ThreatStatus.OPEN,
                    targets=tuple(parts[1:]),
                    likelihood=_field(src, risk, rpath, "exploitation_likelihood"),
                    impact=_field(src, risk, rpath, "exploitation_impact"),
                    description=_field(src, category, cpath, "description"),
                )
            )
    for key, (status, _) in tracking.items():
        if key not in used:
            threats.append(Threat(key, key, "", status, description="risk_tracking entry"))
            keys.append(key)
    mitigations, accepted = _treatments(list(zip(threats, keys)), tracking)
    return ThreatModel(
        path=src.name,
        format=ModelFormat.THREAGILE,
        system=System(
            name=text(src, root.get("title"), ["title"], "the model title", required=True),
            owner=_author(root.get("author")),
        ),
        threats=tuple(threats),
        mitigations=mitigations,
        accepted_risks=accepted,
        assets=tuple(Asset(_id(v, k), k) for k, v in _items(root, "data_assets")),
        components=tuple(
            Component(_id(v, k), k, str(v.get("type", "")) if isinstance(v, dict) else "")
            for k, v in _items(root, "technical_assets")
        ),
        trust_boundaries=tuple(
            TrustBoundary(_id(v, k), k, _strings(v, "technical_assets_inside"))
            for k, v in _items(root, "trust_boundaries")
        ),
    )


def _tracking(src: Source, root: dict[str, Any]) -> dict[str, tuple[ThreatStatus, dict[str, Any]]]:
    result = {}
    entries = mapping(src, root.get("risk_tracking") or {}, ["risk_tracking"], "risk tracking")
    for key, entry in entries.items():
        path: list[str | int] = ["risk_tracking", key]
        entry = mapping(src, entry, path, "a risk tracking entry")
        status = text(src, entry.get("status"), [*path, "status"], "the status", required=True)
        if status not in STATUSES:
            raise src.error(
                [*path, "status"],
                f"unknown risk tracking status {status!r} (expected {', '.join(STATUSES)})",
            )
        for field in ("justification", "checked_by", "date", "ticket"):
            text(src, entry.get(field), [*path, field], f"the {field}")
        result[str(key).strip()] = (STATUSES[status], entry)
    return result


def _treatments(
    threats: list[tuple[Threat, str | None]],
    tracking: dict[str, tuple[ThreatStatus, dict[str, Any]]],
) -> tuple[tuple[Mitigation, ...], tuple[AcceptedRisk, ...]]:
    mitigations: dict[str, Mitigation] = {}
    accepted = []
    for threat, key in threats:
        if key is None:
            continue
        status, entry = tracking[key]
        justification = str(entry.get("justification") or "")
        if status is ThreatStatus.MITIGATED:
            tests, requirements = refs_from_text(justification)
            previous = mitigations.get(key)
            covered = (previous.threats if previous else ()) + (threat.id,)
            title = justification.strip().splitlines()[0][:120] if justification.strip() else key
            mitigations[key] = Mitigation(f"M:{key}", title, covered, requirements, tests)
        elif status is ThreatStatus.ACCEPTED:
            accepted.append(
                AcceptedRisk(threat.id, justification, str(entry.get("checked_by") or ""), None)
            )
    return tuple(mitigations.values()), tuple(accepted)


def _tracked(tracking: dict[str, Any], synthetic: str) -> str | None:
    """The tracking key for a risk: an exact match first, else the first wildcard match."""
    if synthetic in tracking:
        return synthetic
    return next((k for k in tracking if _matches(k, synthetic)), None)


def _field(src: Source, table: dict[str, Any], path: list[str | int], key: str) -> str:
    return text(src, table.get(key), [*path, key], key)


def _matches(pattern: str, synthetic: str) -> bool:
    wanted, parts = pattern.split("@"), synthetic.split("@")
    return len(wanted) == len(parts) and all(w in ("*", p) for w, p in zip(wanted, parts))


def _items(root: dict[str, Any], key: str) -> list[tuple[str, Any]]:
    value = root.get(key)
    return [(str(k), v) for k, v in value.items()] if isinstance(value, dict) else []


def _id(value: Any, fallback: str) -> str:
    return str(value.get("id") or fallback) if isinstance(value, dict) else fallback


def _strings(value: Any, key: str) -> tuple[str, ...]:
    items = value.get(key) if isinstance(value, dict) else None
    return tuple(str(i) for i in items) if isinstance(items, list) else ()


def _author(value: Any) -> str:
    return str(value.get("name") or "") if isinstance(value, dict) else ""


def _plain(title: str) -> str:
    return title.replace("<b>", "").replace("</b>", "")
