"""OWASP Threat Dragon v2 models (JSON, as the Threat Dragon app saves them).

Threats are every entry of every diagram cell's `data.threats`. Status mapping (case-insensitive):
Mitigated, Avoided, Eliminated -> mitigated; Accepted, Transferred, NA / NotApplicable ->
accepted (a person decided it needs no mitigation); Open -> open. A mitigated threat with
mitigation text becomes a mitigation; `Tests:` / `Requirements:` lines in that text link it.
"""

from __future__ import annotations

from typing import Any

from sdl_tracker.formats.threatmodel.model import (
    STRIDE,
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
    stride,
)
from sdl_tracker.formats.threatmodel.source import Source, mapping, sequence, text

STATUSES = {
    "open": ThreatStatus.OPEN,
    "mitigated": ThreatStatus.MITIGATED,
    "avoided": ThreatStatus.MITIGATED,
    "eliminated": ThreatStatus.MITIGATED,
    "accepted": ThreatStatus.ACCEPTED,
    "transferred": ThreatStatus.ACCEPTED,
    "na": ThreatStatus.ACCEPTED,
    "notapplicable": ThreatStatus.ACCEPTED,
    "not applicable": ThreatStatus.ACCEPTED,
}


def is_dragon(data: Any) -> bool:
    return isinstance(data, dict) and ("detail" in data or "summary" in data)


def load(src: Source) -> ThreatModel:
    """The model in `src`, or InputError at the first value that is not Threat Dragon v2."""
    root = mapping(src, src.data, [], "a Threat Dragon model")
    summary = mapping(src, root.get("summary"), ["summary"], "the model summary")
    title = text(src, summary.get("title"), ["summary", "title"], "the model title", required=True)
    detail = mapping(src, root.get("detail"), ["detail"], "the model detail (Threat Dragon v2)")
    diagrams = sequence(src, detail.get("diagrams"), ["detail", "diagrams"], "the diagrams")
    threats: list[Threat] = []
    mitigations: list[Mitigation] = []
    accepted: list[AcceptedRisk] = []
    components: list[Component] = []
    flows: list[DataFlow] = []
    boundaries: list[TrustBoundary] = []
    reviewer = text(src, detail.get("reviewer"), ["detail", "reviewer"], "the reviewer")
    for d, diagram in enumerate(diagrams):
        where: list[str | int] = ["detail", "diagrams", d]
        diagram = mapping(src, diagram, where, "a diagram")
        if "diagramJson" in diagram:
            raise src.error(
                [*where, "diagramJson"],
                "this is a Threat Dragon v1 model; open it in Threat Dragon 2 and save it "
                "to convert it to v2",
            )
        cells = sequence(src, diagram.get("cells"), [*where, "cells"], "the diagram cells")
        for c, cell in enumerate(cells):
            path = [*where, "cells", c]
            cell = mapping(src, cell, path, "a diagram cell")
            data = mapping(src, cell.get("data") or {}, [*path, "data"], "the cell data")
            name = _name(src, cell, data, path)
            cell_id = text(src, cell.get("id"), [*path, "id"], "the cell id") or f"{d}/{c}"
            _element(cell, data, cell_id, name, components, flows, boundaries)
            key = "threats" if "threats" in data else None
            raw = data.get("threats") if key else cell.get("threats")
            tpath = [*path, "data", "threats"] if key else [*path, "threats"]
            for i, entry in enumerate(sequence(src, raw, tpath, "the threats")):
                threat = _threat(src, entry, [*tpath, i], f"{cell_id}/{i}", name)
                threats.append(threat)
                mitigation_text = text(
                    src, entry.get("mitigation"), [*tpath, i, "mitigation"], "the mitigation"
                )
                if threat.status is ThreatStatus.MITIGATED and mitigation_text.strip():
                    tests, requirements = refs_from_text(mitigation_text)
                    mitigations.append(
                        Mitigation(
                            id=f"M:{threat.id}",
                            title=mitigation_text.strip().splitlines()[0][:120],
                            threats=(threat.id,),
                            requirements=requirements,
                            tests=tests,
                        )
                    )
                if threat.status is ThreatStatus.ACCEPTED:
                    accepted.append(
                        AcceptedRisk(
                            threat.id, mitigation_text or threat.description, reviewer, None
                        )
                    )
    return ThreatModel(
        path=src.name,
        format=ModelFormat.THREAT_DRAGON,
        system=System(
            name=title,
            description=text(src, summary.get("description"), ["summary", "description"], "text"),
            owner=text(src, summary.get("owner"), ["summary", "owner"], "the owner"),
        ),
        threats=tuple(threats),
        mitigations=tuple(mitigations),
        accepted_risks=tuple(accepted),
        components=tuple(components),
        data_flows=tuple(flows),
        trust_boundaries=tuple(boundaries),
    )


def _name(src: Source, cell: dict[str, Any], data: dict[str, Any], path: list[str | int]) -> str:
    if data.get("name"):
        return text(src, data["name"], [*path, "data", "name"], "the element name")
    label = (cell.get("attrs") or {}).get("text") or {}
    return str(label.get("text") or "") if isinstance(label, dict) else ""


def _element(
    cell: dict[str, Any],
    data: dict[str, Any],
    cell_id: str,
    name: str,
    components: list[Component],
    flows: list[DataFlow],
    boundaries: list[TrustBoundary],
) -> None:
    kind = str(data.get("type") or cell.get("shape") or "")
    if data.get("isTrustBoundary") or "boundary" in kind.lower():
        boundaries.append(TrustBoundary(cell_id, name))
    elif "flow" in kind.lower():
        ends = [cell.get(k) for k in ("source", "target")]
        cells = [e.get("cell", "") if isinstance(e, dict) else "" for e in ends]
        flows.append(
            DataFlow(cell_id, str(cells[0]), str(cells[1]), protocol=str(data.get("protocol", "")))
        )
    elif name:
        components.append(Component(cell_id, name, kind.removeprefix("tm.").lower()))


def _threat(src: Source, entry: Any, path: list[str | int], fallback: str, target: str) -> Threat:
    entry = mapping(src, entry, path, "a threat")
    title = text(src, entry.get("title"), [*path, "title"], "the threat title", required=True)
    status_text = text(src, entry.get("status"), [*path, "status"], "the threat status")
    status = STATUSES.get(status_text.strip().lower() or "open")
    if status is None:
        raise src.error(
            [*path, "status"],
            f"unknown threat status {status_text!r} (expected Open, Mitigated, Accepted, "
            "Transferred, Avoided, Eliminated or NA)",
        )
    kind = text(src, entry.get("type"), [*path, "type"], "the threat type")
    identifier = entry.get("id") or entry.get("threatId") or entry.get("number") or fallback
    return Threat(
        id=str(identifier),
        title=title,
        category=stride(kind) if stride(kind) in STRIDE else kind.strip().lower(),
        status=status,
        targets=(target,) if target else (),
        impact=text(src, entry.get("severity"), [*path, "severity"], "the severity").lower(),
        description=text(src, entry.get("description"), [*path, "description"], "text"),
    )
