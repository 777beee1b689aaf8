"""OWASP pytm JSON reports (`python tm.py --json model.json`), never the pytm script itself.

Threats are the report's `findings` (id `<threat_id>@<target>`) and its `excluded_findings`
(excluded by a documented assumption: counted as accepted). A finding's status comes from its
`response` text: starting with "mitigated" or "avoided" -> mitigated, "accepted" or
"transferred" -> accepted, anything else (or none) -> open. A mitigated finding's response is
its mitigation; `Tests:` / `Requirements:` lines in it link tests and requirements. Elements'
`sourceFiles` are the paths a component owns. An element's `inBoundary` puts it in that boundary
and in every boundary that one is in (a boundary's own `inBoundary`), so a flow between elements
in different boundaries crosses one.
"""

from __future__ import annotations

from typing import Any

from sdl_tracker.formats.threatmodel.model import (
    AcceptedRisk,
    Component,
    DataFlow,
    Mitigation,
    ModelFormat,
    System,
    Threat,
    ThreatModel,
    ThreatStatus,
    TrustBoundary,
    refs_from_text,
)
from sdl_tracker.formats.threatmodel.source import Source, mapping, sequence, text

_MARKERS = ("elements", "flows", "boundaries", "threatsFile", "onDuplicates")
_RESPONSES = (
    ("mitigated", ThreatStatus.MITIGATED),
    ("avoided", ThreatStatus.MITIGATED),
    ("accepted", ThreatStatus.ACCEPTED),
    ("transferred", ThreatStatus.ACCEPTED),
)


def is_pytm(data: Any) -> bool:
    return isinstance(data, dict) and "findings" in data and any(k in data for k in _MARKERS)


def load(src: Source) -> ThreatModel:
    root = mapping(src, src.data, [], "a pytm JSON report")
    name = text(src, root.get("name"), ["name"], "the model name", required=True)
    threats: list[Threat] = []
    mitigations: list[Mitigation] = []
    accepted: list[AcceptedRisk] = []
    for key in ("findings", "excluded_findings"):
        for i, raw in enumerate(sequence(src, root.get(key), [key], "the findings")):
            path: list[str | int] = [key, i]
            finding = mapping(src, raw, path, "a finding")
            response = text(src, finding.get("response"), [*path, "response"], "the response")
            status = _status(response) if key == "findings" else ThreatStatus.ACCEPTED
            threat = _threat(src, finding, path, status)
            threats.append(threat)
            if status is ThreatStatus.MITIGATED:
                tests, requirements = refs_from_text(response)
                title = response.strip().lstrip("*").strip().splitlines()[0][:120]
                mitigations.append(
                    Mitigation(f"M:{threat.id}", title, (threat.id,), requirements, tests)
                )
            elif status is ThreatStatus.ACCEPTED:
                rationale = response or _assumption(finding.get("assumption"))
                accepted.append(AcceptedRisk(threat.id, rationale, "", None))
    return ThreatModel(
        path=src.name,
        format=ModelFormat.PYTM,
        system=System(name, text(src, root.get("description"), ["description"], "text")),
        threats=tuple(threats),
        mitigations=tuple(mitigations),
        accepted_risks=tuple(accepted),
        components=tuple(_components(src, root)),
        data_flows=tuple(
            DataFlow(str(f["name"]), str(f.get("source") or ""), str(f.get("sink") or ""))
            for f in _named(src, root, "flows")
        ),
        trust_boundaries=tuple(_boundaries(src, root)),
    )


def _boundaries(src: Source, root: dict[str, Any]) -> list[TrustBoundary]:
    """Each boundary with the elements inside it, directly or through nested boundaries."""
    boundaries = _named(src, root, "boundaries")
    outer = {str(b["name"]): _in(b) for b in boundaries}
    members: dict[str, list[str]] = {name: [] for name in outer}
    for key in ("elements", "actors", "assets"):
        for element in _named(src, root, key):
            name, seen = str(element["name"]), set()
            where = _in(element)
            while where is not None and where in members and where not in seen:
                seen.add(where)
                if name not in members[where]:
                    members[where].append(name)
                where = outer[where]
    return [TrustBoundary(name, name, tuple(found)) for name, found in members.items()]


def _in(item: dict[str, Any]) -> str | None:
    """The name of the boundary `item` is in (pytm writes the name, or the boundary itself)."""
    value = item.get("inBoundary")
    if isinstance(value, dict):
        value = value.get("name")
    return value if isinstance(value, str) and value else None


def _status(response: str) -> ThreatStatus:
    words = response.strip().lstrip("*_# ").lower()
    return next((s for prefix, s in _RESPONSES if words.startswith(prefix)), ThreatStatus.OPEN)


def _threat(
    src: Source, finding: dict[str, Any], path: list[str | int], status: ThreatStatus
) -> Threat:
    threat_id = text(
        src, finding.get("threat_id"), [*path, "threat_id"], "the threat id", required=True
    )
    target = text(src, finding.get("target"), [*path, "target"], "the target element")
    description = text(src, finding.get("description"), [*path, "description"], "text")
    return Threat(
        id=f"{threat_id}@{target}" if target else threat_id,
        title=description or threat_id,
        category="",
        status=status,
        targets=(target,) if target else (),
        likelihood=text(src, finding.get("likelihood"), [*path, "likelihood"], "text").lower(),
        impact=text(src, finding.get("severity"), [*path, "severity"], "text").lower(),
        description=text(src, finding.get("details"), [*path, "details"], "text"),
    )


def _components(src: Source, root: dict[str, Any]) -> list[Component]:
    result: dict[str, Component] = {}
    for key in ("elements", "actors", "assets"):
        for i, element in enumerate(_named(src, root, key)):
            files = sequence(src, element.get("sourceFiles"), [key, i, "sourceFiles"], "files")
            paths = tuple(
                text(src, f, [key, i, "sourceFiles", j], "a file path", required=True)
                for j, f in enumerate(files)
            )
            name = str(element["name"])
            kind = str(element.get("__class__") or "").lower()
            result.setdefault(name, Component(name, name, kind, paths))
    return list(result.values())


def _named(src: Source, root: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = []
    for i, raw in enumerate(sequence(src, root.get(key), [key], f"the {key}")):
        item = mapping(src, raw, [key, i], f"an entry of {key}")
        text(src, item.get("name"), [key, i, "name"], "a name", required=True)
        items.append(item)
    return items


def _assumption(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or value.get("description") or "excluded by an assumption")
    return str(value or "excluded by an assumption")
