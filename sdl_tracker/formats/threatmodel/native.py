"""The native threat-model format (YAML, `version: 1`), checked by its JSON schema and links.

The schema (`schemas/threat-model.schema.json`, beside this module) fixes the shape; this module
checks what a schema cannot: unique ids, every reference resolving, and a status that agrees
with the model (a `mitigated` threat has a mitigation, an `accepted` one an accepted-risk entry).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sdl_tracker.formats.threatmodel.model import (
    AcceptedRisk,
    Asset,
    Component,
    DataFlow,
    Mitigation,
    ModelFormat,
    System,
    Threat,
    ThreatModel,
    ThreatStatus,
    TrustBoundary,
)
from sdl_tracker.formats.threatmodel.source import Source, validate

SCHEMA = "threat-model.schema.json"


def is_native(data: Any) -> bool:
    return isinstance(data, dict) and "system" in data and "threats" in data


def load(src: Source) -> ThreatModel:
    """The model in `src`, or InputError naming the file, line and path of the first problem."""
    validate(src, SCHEMA)
    d: dict[str, Any] = src.data
    raw = {key: d.get(key) or [] for key in _SECTIONS}
    for key in _SECTIONS:
        _unique(src, key, raw[key], "threat" if key == "accepted_risks" else "id")
    ids = {key: {item["id"] for item in raw[key]} for key in _SECTIONS if key != "accepted_risks"}
    _links(src, raw, ids)
    model = ThreatModel(
        path=src.name,
        format=ModelFormat.NATIVE,
        system=System(
            name=d["system"]["name"],
            description=d["system"].get("description", ""),
            owner=d["system"].get("owner", ""),
        ),
        assets=tuple(Asset(a["id"], a["name"], a.get("description", "")) for a in raw["assets"]),
        components=tuple(
            Component(
                c["id"],
                c["name"],
                c.get("kind", ""),
                tuple(c.get("paths", ())),
                tuple(c.get("assets", ())),
            )
            for c in raw["components"]
        ),
        trust_boundaries=tuple(
            TrustBoundary(b["id"], b["name"], tuple(b.get("components", ())))
            for b in raw["trust_boundaries"]
        ),
        data_flows=tuple(
            DataFlow(
                f["id"],
                f["from"],
                f["to"],
                tuple(f.get("data", ())),
                f.get("protocol", ""),
                tuple(f.get("crosses", ())),
            )
            for f in raw["data_flows"]
        ),
        threats=tuple(_threat(t) for t in raw["threats"]),
        mitigations=tuple(
            Mitigation(
                m["id"],
                m["title"],
                tuple(m["threats"]),
                tuple(m.get("requirements", ())),
                tuple(m.get("tests", ())),
            )
            for m in raw["mitigations"]
        ),
        accepted_risks=tuple(_accepted(src, i, r) for i, r in enumerate(raw["accepted_risks"])),
    )
    _statuses(src, model)
    return model


_SECTIONS = (
    "assets",
    "components",
    "trust_boundaries",
    "data_flows",
    "threats",
    "mitigations",
    "accepted_risks",
)

# (section, field, sections whose ids the field may name)
_REFERENCES = (
    ("components", "assets", ("assets",)),
    ("trust_boundaries", "components", ("components",)),
    ("data_flows", "from", ("components",)),
    ("data_flows", "to", ("components",)),
    ("data_flows", "data", ("assets",)),
    ("data_flows", "crosses", ("trust_boundaries",)),
    ("threats", "targets", ("components", "data_flows", "assets")),
    ("mitigations", "threats", ("threats",)),
    ("accepted_risks", "threat", ("threats",)),
)


def _unique(src: Source, section: str, items: Sequence[Mapping[str, Any]], key: str) -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        value = item[key]
        if value in seen:
            raise src.error(
                [section, i, key],
                f"{value!r} is already used by {section}[{seen[value]}]; ids must be unique",
            )
        seen[value] = i


def _links(
    src: Source, raw: Mapping[str, list[dict[str, Any]]], ids: Mapping[str, set[str]]
) -> None:
    for section, field, targets in _REFERENCES:
        known = set().union(*(ids[t] for t in targets))
        for i, item in enumerate(raw[section]):
            value = item.get(field)
            refs: Iterable[str] = [value] if isinstance(value, str) else value or ()
            for j, ref in enumerate(refs):
                if ref not in known:
                    path: list[str | int] = [section, i, field]
                    if not isinstance(value, str):
                        path.append(j)
                    raise src.error(
                        path,
                        f"{ref!r} names no entry of {' or '.join(targets)} "
                        f"(known: {', '.join(sorted(known)) or 'none'})",
                    )


def _threat(t: Mapping[str, Any]) -> Threat:
    return Threat(
        id=t["id"],
        title=t["title"],
        category=t["stride"],
        status=ThreatStatus(t["status"]),
        targets=tuple(t.get("targets", ())),
        likelihood=t["likelihood"],
        impact=t["impact"],
        description=t.get("description", ""),
    )


def _accepted(src: Source, i: int, r: Mapping[str, Any]) -> AcceptedRisk:
    return AcceptedRisk(
        threat=r["threat"],
        rationale=r["rationale"],
        approver=r["approver"],
        date=_date(src, ["accepted_risks", i, "date"], r["date"]),
        expires=_date(src, ["accepted_risks", i, "expires"], r["expires"])
        if "expires" in r
        else None,
    )


def _date(src: Source, path: list[str | int], value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise src.error(path, f"{value!r} is not a calendar date (YYYY-MM-DD)") from e


def _statuses(src: Source, model: ThreatModel) -> None:
    mitigated = {t for m in model.mitigations for t in m.threats}
    accepted = {r.threat: i for i, r in enumerate(model.accepted_risks)}
    for i, t in enumerate(model.threats):
        if t.status is ThreatStatus.MITIGATED and t.id not in mitigated:
            raise src.error(
                ["threats", i, "status"],
                f"{t.id} is 'mitigated' but no mitigation lists it; add a mitigation with "
                f"`threats: [{t.id}]` or set `status: open`",
            )
        if t.status is ThreatStatus.ACCEPTED and t.id not in accepted:
            raise src.error(
                ["threats", i, "status"],
                f"{t.id} is 'accepted' but accepted_risks has no entry for it; add one with "
                "rationale, approver and date",
            )
    by_id = {t.id: t for t in model.threats}
    for threat_id, i in accepted.items():
        if by_id[threat_id].status is not ThreatStatus.ACCEPTED:
            raise src.error(
                ["accepted_risks", i, "threat"],
                f"{threat_id} has an accepted-risk entry but its status is "
                f"{by_id[threat_id].status.value!r}; set `status: accepted` or remove the entry",
            )
