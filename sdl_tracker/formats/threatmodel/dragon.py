"""OWASP Threat Dragon v2 models (JSON, as the Threat Dragon app saves them).

Threats are every entry of every diagram cell's `data.threats`. Status mapping (case-insensitive):
Mitigated, Avoided, Eliminated -> mitigated; Accepted, Transferred, NA / NotApplicable ->
accepted (a person decided it needs no mitigation); Open -> open. A mitigated threat with
mitigation text becomes a mitigation; `Tests:` / `Requirements:` lines in that text link it.

Trust boundaries come from the drawing (`geometry`): a trust-boundary box holds the elements
embedded in it or whose centre it encloses; a flow crosses a trust-boundary curve it cuts.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sdl_tracker.formats.threatmodel import geometry
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
    drawn: list[dict[str, dict[str, Any]]] = []
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
        drawn.append({})
        for c, cell in enumerate(cells):
            path = [*where, "cells", c]
            cell = mapping(src, cell, path, "a diagram cell")
            data = mapping(src, cell.get("data") or {}, [*path, "data"], "the cell data")
            name = _name(src, cell, data, path)
            cell_id = text(src, cell.get("id"), [*path, "id"], "the cell id") or f"{d}/{c}"
            _element(cell, data, cell_id, name, components, flows, boundaries)
            drawn[-1][cell_id] = cell
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
        data_flows=tuple(_crossing(src, drawn, flows)),
        trust_boundaries=tuple(_members(drawn, boundaries, components)),
    )


def _members(
    drawn: list[dict[str, dict[str, Any]]],
    boundaries: list[TrustBoundary],
    components: list[Component],
) -> list[TrustBoundary]:
    """Each trust-boundary box with the elements of its diagram embedded in it or inside it."""
    result = []
    for b in boundaries:
        cells = next((cells for cells in drawn if b.id in cells), {})
        box = geometry.rect(cells.get(b.id, {})) if _is_box(cells.get(b.id, {})) else None
        inside = []
        for c in components:
            cell = cells.get(c.id)
            if box is None or cell is None:
                continue
            shape = geometry.rect(cell)
            if cell.get("parent") == b.id or (
                shape is not None and geometry.encloses(box, geometry.centre(shape))
            ):
                inside.append(c.id)
        result.append(replace(b, components=tuple(inside)))
    return result


def _crossing(
    src: Source, drawn: list[dict[str, dict[str, Any]]], flows: list[DataFlow]
) -> list[DataFlow]:
    """Each flow with the trust-boundary curves of its diagram it cuts (`crosses`)."""
    result = []
    for flow in flows:
        d, cells = next(((d, cells) for d, cells in enumerate(drawn) if flow.id in cells), (0, {}))
        centres = {i: geometry.centre(r) for i, cell in cells.items() if (r := geometry.rect(cell))}
        path = geometry.line(cells.get(flow.id, {}), centres)
        curves = {
            i: line
            for i, cell in cells.items()
            if _is_curve(cell) and (line := geometry.line(cell, centres))
        }
        work = (len(path) if path else 0) * sum(len(c) for c in curves.values())
        if work > geometry.MAX_WORK:
            raise src.error(
                ["detail", "diagrams", d],
                f"flow {flow.id} and the boundary curves it might cross have more than "
                f"{geometry.MAX_WORK:,} pairs of segments: not a drawing this importer places",
            )
        crosses = tuple(i for i, curve in curves.items() if path and geometry.cut(path, curve))
        result.append(replace(flow, crosses=crosses))
    return result


def _is_box(cell: dict[str, Any]) -> bool:
    kind = (
        str((cell.get("data") or {}).get("type") or "")
        if isinstance(cell.get("data"), dict)
        else ""
    )
    return cell.get("shape") == "trust-boundary-box" or kind == "tm.BoundaryBox"


def _is_curve(cell: dict[str, Any]) -> bool:
    return cell.get("shape") == "trust-boundary-curve" or (
        not _is_box(cell) and "boundary" in str(cell.get("shape") or "") and "source" in cell
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
