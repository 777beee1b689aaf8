"""Thresholds on evidence metrics, and waivers of individual findings (pure).

Evidence may list what it found in `predicate.details.findings`: objects with an `id` (a bandit
test id, an advisory id …) and optionally a `severity`; the dependency audit's
`details.vulnerabilities` (with `aliases`) count too. A failing threshold `m ≤ N` is waived
when enough of the listed findings of severity `m` (or of any severity, when none is `m`) have an
active finding waiver to bring the count within N; failing evidence without thresholds is waived
when every listed finding is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sdl_tracker.conformance import waivers as waivers_mod
from sdl_tracker.conformance.model import Status, Waiver
from sdl_tracker.models import Number, Predicate, ResultStatus
from sdl_tracker.policy.model import Bound, Leaf


@dataclass(frozen=True)
class Verdict:
    """How one entry fares against a leaf of the rule."""

    status: Status
    why: str
    waivers: tuple[Waiver, ...] = ()


@dataclass(frozen=True)
class Finding:
    ids: tuple[str, ...]
    """The finding's id first, then its aliases (a waiver may name any of them)."""
    severity: str | None

    @property
    def id(self) -> str:
        return self.ids[0]

    def waiver(self, waivers: Sequence[Waiver]) -> Waiver | None:
        for fid in self.ids:
            found = waivers_mod.active(waivers, fid)
            if found is not None:
                return found
        return None


def value(metric: str, metrics: Mapping[str, Number]) -> float | str:
    """The metric (or ratio `a/b`) from the entry's metrics, or why it has none."""
    names = metric.split("/")
    absent = [n for n in names if n not in metrics]
    if absent:
        return f"metric {absent[0]!r} not reported"
    if len(names) == 1:
        return float(metrics[metric])
    denominator = float(metrics[names[1]])
    if denominator == 0:
        return f"{metric} is undefined ({names[1]} = 0)"
    return float(metrics[names[0]]) / denominator


def meets(bound: Bound, found: float) -> bool:
    if bound.minimum is not None and found < bound.minimum:
        return False
    return bound.maximum is None or found <= bound.maximum


def check(leaf: Leaf, predicate: Predicate, waivers: Sequence[Waiver]) -> Verdict | None:
    """None when the entry meets the leaf; otherwise failing, incomplete or waived, and why."""
    if not leaf.thresholds:
        if predicate.result.status is ResultStatus.FAIL:
            return _waive([], f"failed: {predicate.result.summary}", predicate, waivers)
        return None
    failed: list[tuple[Bound, float]] = []
    for bound in leaf.thresholds:
        found = value(bound.metric, predicate.result.metrics)
        if isinstance(found, str):
            return Verdict(Status.INCOMPLETE, f"{found} (the policy needs {bound.describe()})")
        if not meets(bound, found):
            failed.append((bound, found))
    if not failed:
        return None
    why = "; ".join(f"{b.metric} = {_num(v)}, expected {b.describe()}" for b, v in failed)
    return _waive(failed, why, predicate, waivers)


def _waive(
    failed: list[tuple[Bound, float]], why: str, predicate: Predicate, waivers: Sequence[Waiver]
) -> Verdict:
    findings = listed(predicate)
    if not findings:
        return Verdict(Status.FAILING, why)
    active = {f.id: f.waiver(waivers) for f in findings}
    used: list[Finding] = []
    if failed:
        for bound, found in failed:
            if bound.maximum is None or "/" in bound.metric:
                return Verdict(Status.FAILING, why)
            matching = [f for f in findings if f.severity == bound.metric] or findings
            waived = [f for f in matching if active[f.id]]
            if found - len(waived) > bound.maximum:
                return Verdict(Status.FAILING, f"{why}{_unwaived(matching, active)}")
            used.extend(waived)
    else:
        if not all(active[f.id] for f in findings):
            return Verdict(Status.FAILING, f"{why}{_unwaived(findings, active)}")
        used = findings
    applied = tuple({w.seq: w for f in used if (w := active[f.id])}.values())
    ids = ", ".join(sorted({f.id for f in used}))
    return Verdict(Status.WAIVED, f"{why}; waived findings: {ids}", applied)


def listed(predicate: Predicate) -> list[Finding]:
    """Open findings an entry lists: `details.findings` (`id`, `severity`), and the dependency
    audit's `details.vulnerabilities` (`id`, `aliases`; `not_affected` ones are not open)."""
    found = []
    for key in ("findings", "vulnerabilities"):
        raw = predicate.details.get(key)
        if not isinstance(raw, list):
            continue
        for item in raw:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            if item.get("status") == "not_affected":
                continue
            aliases = item.get("aliases")
            ids = (str(item["id"]),) + (
                tuple(a for a in aliases if isinstance(a, str)) if isinstance(aliases, list) else ()
            )
            severity = item.get("severity")
            found.append(Finding(ids, severity.lower() if isinstance(severity, str) else None))
    return found


def _unwaived(findings: list[Finding], active: Mapping[str, Waiver | None]) -> str:
    open_ids = sorted({f.id for f in findings if not active[f.id]})
    if not open_ids:
        return ""
    more = f" and {len(open_ids) - 5} more" if len(open_ids) > 5 else ""
    return f"; not waived: {', '.join(open_ids[:5])}{more}"


def _num(found: float) -> str:
    return str(int(found)) if found == int(found) else f"{found:.3g}"
