"""Where a Threat Dragon v2 diagram puts things: which elements a trust-boundary box encloses, and
which data flows a trust-boundary curve cuts (pure; coordinates as the diagram stores them).

An element is in a box when the box is its `parent` (embedded in X6), or when its centre lies
inside the box's rectangle. A flow is drawn from its source to its target through its
`vertices`; a curve from its source point through its vertices to its target point. Both are
taken as the straight segments between those points (the editor smooths curves through the same
points), and a flow crosses a curve when a segment of one meets a segment of the other. Anything
without usable coordinates is in no box and crosses nothing: it is never *known* to cross.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Point = tuple[float, float]
Rect = tuple[float, float, float, float]


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def point(raw: Any) -> Point | None:
    """`{x, y}` as a point, or None."""
    if not isinstance(raw, dict):
        return None
    x, y = _num(raw.get("x")), _num(raw.get("y"))
    return None if x is None or y is None else (x, y)


def rect(cell: Mapping[str, Any]) -> Rect | None:
    """The cell's `position` and `size` as (x, y, width, height), or None."""
    corner, size = point(cell.get("position")), cell.get("size")
    if corner is None or not isinstance(size, dict):
        return None
    w, h = _num(size.get("width")), _num(size.get("height"))
    if w is None or h is None or w < 0 or h < 0:
        return None
    return (*corner, w, h)


def centre(box: Rect) -> Point:
    x, y, w, h = box
    return (x + w / 2, y + h / 2)


def encloses(box: Rect, p: Point) -> bool:
    x, y, w, h = box
    return x <= p[0] <= x + w and y <= p[1] <= y + h


#: More segment pairs than this to test for one flow is not a drawing: refused by the importer.
MAX_WORK = 1_000_000


def line(cell: Mapping[str, Any], centres: Mapping[str, Point]) -> list[Point] | None:
    """An edge cell's points: source, vertices, target; an end naming a cell is its centre."""
    ends = [_end(cell.get(k), centres) for k in ("source", "target")]
    raw = cell.get("vertices")
    vertices = [point(v) for v in raw] if isinstance(raw, list) else []
    found = [ends[0], *vertices, ends[1]]
    if any(p is None for p in found):
        return None
    return [p for p in found if p is not None]


def _end(raw: Any, centres: Mapping[str, Point]) -> Point | None:
    if isinstance(raw, dict) and isinstance(raw.get("cell"), str):
        return centres.get(raw["cell"])
    return point(raw)


def cut(a: Sequence[Point], b: Sequence[Point]) -> bool:
    """Whether the polylines `a` and `b` meet."""
    return any(
        _meet(a[i], a[i + 1], b[j], b[j + 1]) for i in range(len(a) - 1) for j in range(len(b) - 1)
    )


def _meet(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    d1, d2 = _turn(q1, q2, p1), _turn(q1, q2, p2)
    d3, d4 = _turn(p1, p2, q1), _turn(p1, p2, q2)
    if ((d1 > 0) != (d2 > 0)) and d1 and d2 and ((d3 > 0) != (d4 > 0)) and d3 and d4:
        return True
    return (
        (d1 == 0 and _on(q1, q2, p1))
        or (d2 == 0 and _on(q1, q2, p2))
        or (d3 == 0 and _on(p1, p2, q1))
        or (d4 == 0 and _on(p1, p2, q2))
    )


def _turn(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on(a: Point, b: Point, p: Point) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])
