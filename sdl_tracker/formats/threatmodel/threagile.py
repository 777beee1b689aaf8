"""Threagile model YAML (the input file `threagile` reads), read by Threagile's own rules.

Threagile computes most of its risks by running its rules, which sdl-tracker does not do. What
the file itself records is counted, as Threagile's engine reads it:

- risk categories: `custom_risk_categories` (a list; what Threagile has read since 2024) or, in
  older models, `individual_risk_categories` (a map keyed by title; read by Threagile up to
  0.9.x). Each engine ignores the other key without a word, so a file with both is refused;
- every identified risk gets Threagile's synthetic id: the category id, then `@` and each
  `most_relevant_*` element that is set, in the order technical asset, communication link,
  trust boundary, shared runtime, data asset. Every element named must exist;
- `risk_tracking`: an entry keyed by exactly that id applies first; else entries with `*`
  (`*` = one or more characters other than `@`, found anywhere in the lower-cased id, as
  Threagile matches them; a risk id with capitals is never matched by a wildcard there, nor
  here). Two wildcards with different statuses for one risk are refused: Threagile would pick
  one at random. A tracking entry that matches no risk in the file tracks a risk Threagile's
  rules generate, and is counted as one threat with its own status;
- `includes:` are followed relative to the including file, must stay inside the repository,
  and are merged as Threagile merges them (categories appended, a category id defined twice or
  a tracking entry with two statuses is an error); an include cycle is refused.

Status mapping: mitigated -> mitigated; accepted, false-positive -> accepted (with the
justification as the rationale); unchecked, in-discussion, in-progress or untracked -> open.
Threagile itself counts `accepted` as still at risk. A mitigated tracking entry is a mitigation;
`Tests:` / `Requirements:` lines in its justification link it.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sdl_tracker.errors import InputError
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
from sdl_tracker.formats.threatmodel.source import Path_, Source, mapping, sequence, text

Include = Callable[[str], Source]
"""Reads a repository-relative file (for `includes:`), or raises InputError."""

STATUSES = {
    "unchecked": ThreatStatus.OPEN,
    "in-discussion": ThreatStatus.OPEN,
    "in-progress": ThreatStatus.OPEN,
    "mitigated": ThreatStatus.MITIGATED,
    "accepted": ThreatStatus.ACCEPTED,
    "false-positive": ThreatStatus.ACCEPTED,
}
_RELEVANT = (
    ("most_relevant_technical_asset", "technical_assets"),
    ("most_relevant_communication_link", "communication_links"),
    ("most_relevant_trust_boundary", "trust_boundaries"),
    ("most_relevant_shared_runtime", "shared_runtimes"),
    ("most_relevant_data_asset", "data_assets"),
)
_CATEGORY_ID = re.compile(r"^[a-zA-Z0-9\-]+$")
_STRIDE_VALUES = (
    "spoofing",
    "tampering",
    "repudiation",
    "information-disclosure",
    "denial-of-service",
    "elevation-of-privilege",
)
_MAX_INCLUDE_DEPTH = 32


def is_threagile(data: Any) -> bool:
    return isinstance(data, dict) and "threagile_version" in data


@dataclass(frozen=True)
class _Part:
    """One file of the model (the main file or an included one) and its parsed top level."""

    src: Source
    root: dict[str, Any]


@dataclass(frozen=True)
class _Tracking:
    status: ThreatStatus
    raw_status: str
    entry: dict[str, Any]


def load(src: Source, include: Include | None = None) -> ThreatModel:
    parts = _parts(src, include, (src.name,))
    main = parts[0].root
    elements = _elements(parts)
    tracking = _tracking(parts)
    threats: list[Threat] = []
    keys: list[str | None] = []
    used: set[str] = set()
    for part, cpath, cat_id, category in _categories(parts):
        kind = stride(_field(part.src, category, cpath, "stride"))
        risks = mapping(
            part.src,
            category.get("risks_identified") or {},
            [*cpath, "risks_identified"],
            "risks",
        )
        for risk_title, risk in risks.items():
            rpath = [*cpath, "risks_identified", risk_title]
            risk = mapping(part.src, risk, rpath, "an identified risk")
            targets = []
            for field, table in _RELEVANT:
                value = _field(part.src, risk, rpath, field).strip()
                if value:
                    if value not in elements[table]:
                        raise part.src.error(
                            [*rpath, field],
                            f"no {table.replace('_', ' ')[:-1]} has the id {value!r} "
                            "(Threagile refuses the model)",
                        )
                    targets.append(value)
            synthetic = "@".join([cat_id, *targets])
            key = _tracked(tracking, synthetic, part.src, rpath)
            if key is not None:
                used.add(key)
            keys.append(key)
            threats.append(
                Threat(
                    id=synthetic,
                    title=_plain(str(risk_title)),
                    category=kind if kind in STRIDE else "",
                    status=tracking[key].status if key else ThreatStatus.OPEN,
                    targets=tuple(targets),
                    likelihood=_field(part.src, risk, rpath, "exploitation_likelihood").lower()
                    or "likely",
                    impact=_field(part.src, risk, rpath, "exploitation_impact").lower() or "medium",
                    description=_field(part.src, category, cpath, "description"),
                )
            )
    for key, tracked in tracking.items():
        if key not in used:
            threats.append(Threat(key, key, "", tracked.status, description="risk_tracking entry"))
            keys.append(key)
    mitigations, accepted = _treatments(list(zip(threats, keys)), tracking)
    title = text(src, main.get("title"), ["title"], "the model title", required=True)
    return ThreatModel(
        path=src.name,
        format=ModelFormat.THREAGILE,
        system=System(name=title, owner=_author(main.get("author"))),
        threats=tuple(threats),
        mitigations=mitigations,
        accepted_risks=accepted,
        assets=tuple(Asset(_id(v, k), k) for p in parts for k, v in _items(p.root, "data_assets")),
        components=tuple(
            Component(_id(v, k), k, str(v.get("type", "")) if isinstance(v, dict) else "")
            for p in parts
            for k, v in _items(p.root, "technical_assets")
        ),
        trust_boundaries=tuple(
            TrustBoundary(_id(v, k), k, _strings(v, "technical_assets_inside"))
            for p in parts
            for k, v in _items(p.root, "trust_boundaries")
        ),
        includes=tuple(p.src.name for p in parts[1:]),
    )


def _parts(src: Source, include: Include | None, chain: tuple[str, ...]) -> list[_Part]:
    """The file and, depth first, the files it includes (Threagile's merge order)."""
    root = mapping(src, src.data, [], "a Threagile model")
    parts = [_Part(src, root)]
    for i, entry in enumerate(sequence(src, root.get("includes"), ["includes"], "included files")):
        where: Path_ = ["includes", i]
        name = text(src, entry, where, "a file name", required=True).strip()
        if include is None:
            raise src.error(
                where, "includes can only be followed in a repository: read the model from one"
            )
        if posixpath.isabs(name) or name.startswith("\\"):
            raise src.error(where, f"{name!r}: give the path relative to this file")
        target = posixpath.normpath(posixpath.join(posixpath.dirname(src.name), name))
        if target == ".." or target.startswith("../"):
            raise src.error(where, f"{name!r} is outside the repository")
        if target in chain:
            cycle = " -> ".join((*chain[chain.index(target) :], target))
            raise src.error(where, f"the includes form a cycle: {cycle}")
        if len(chain) >= _MAX_INCLUDE_DEPTH:
            raise src.error(where, f"includes nested deeper than {_MAX_INCLUDE_DEPTH} files")
        parts.extend(_parts(include(target), include, (*chain, target)))
    return parts


def _categories(parts: list[_Part]) -> list[tuple[_Part, list[str | int], str, dict[str, Any]]]:
    """Every risk category with its place and validated id, from whichever key the file uses."""
    new = [p for p in parts if p.root.get("custom_risk_categories") is not None]
    old = [p for p in parts if p.root.get("individual_risk_categories") is not None]
    if new and old:
        raise InputError(
            f"{new[0].src.where(['custom_risk_categories'])} and "
            f"{old[0].src.where(['individual_risk_categories'])}: Threagile reads only one of "
            "these keys (current versions custom_risk_categories, 0.9.x and older "
            "individual_risk_categories) and silently ignores the other: move every category "
            "to custom_risk_categories (a list, with `title` as a field)"
        )
    found: list[tuple[_Part, list[str | int], str, dict[str, Any]]] = []
    for part in new:
        key = "custom_risk_categories"
        listed = sequence(part.src, part.root[key], [key], "risk categories")
        for i, category in enumerate(listed):
            cpath: list[str | int] = [key, i]
            category = mapping(part.src, category, cpath, "a risk category")
            text(part.src, category.get("title"), [*cpath, "title"], "the title", required=True)
            found.append((part, cpath, _category_id(part.src, category, cpath), category))
    for part in old:
        key = "individual_risk_categories"
        for title, category in mapping(part.src, part.root[key], [key], "risks").items():
            cpath = [key, title]
            category = mapping(part.src, category, cpath, "a risk category")
            found.append((part, cpath, _category_id(part.src, category, cpath), category))
    seen: dict[str, str] = {}
    for part, cpath, cat_id, _ in found:
        earlier = seen.get(cat_id.lower())
        if earlier is not None:
            raise part.src.error(
                [*cpath, "id"],
                f"the risk category id {cat_id!r} is already defined at {earlier} "
                "(Threagile refuses duplicate ids, ignoring case)",
            )
        seen[cat_id.lower()] = part.src.where([*cpath, "id"])
    return found


def _category_id(src: Source, category: dict[str, Any], cpath: list[str | int]) -> str:
    cat_id = text(src, category.get("id"), [*cpath, "id"], "the category id", required=True)
    if not _CATEGORY_ID.match(cat_id):
        raise src.error([*cpath, "id"], f"{cat_id!r}: expected letters, digits and '-' only")
    value = _field(src, category, cpath, "stride").strip()
    if value not in _STRIDE_VALUES:
        raise src.error(
            [*cpath, "stride"],
            f"expected one of {', '.join(_STRIDE_VALUES)} (Threagile requires it), got {value!r}",
        )
    return cat_id


def _elements(parts: list[_Part]) -> dict[str, set[str]]:
    """The ids of the elements a risk may name (Threagile looks them up by id, not by title)."""
    found: dict[str, set[str]] = {table: set() for _, table in _RELEVANT}
    for part in parts:
        for table in ("technical_assets", "trust_boundaries", "shared_runtimes", "data_assets"):
            found[table].update(_id(v, "") for _, v in _items(part.root, table))
        for _, asset in _items(part.root, "technical_assets"):
            links = asset.get("communication_links") if isinstance(asset, dict) else None
            if isinstance(links, dict):
                found["communication_links"].update(_id(v, "") for v in links.values())
    return {k: v - {""} for k, v in found.items()}


def _tracking(parts: list[_Part]) -> dict[str, _Tracking]:
    result: dict[str, _Tracking] = {}
    for part in parts:
        src = part.src
        entries = mapping(src, part.root.get("risk_tracking") or {}, ["risk_tracking"], "risks")
        for key, entry in entries.items():
            path: list[str | int] = ["risk_tracking", key]
            entry = mapping(src, entry, path, "a risk tracking entry")
            status = text(src, entry.get("status"), [*path, "status"], "the status", required=True)
            if status.strip() not in STATUSES:
                raise src.error(
                    [*path, "status"],
                    f"unknown risk tracking status {status!r} (expected {', '.join(STATUSES)})",
                )
            for field in ("justification", "checked_by", "date", "ticket"):
                text(src, entry.get(field), [*path, field], f"the {field}")
            date = str(entry.get("date") or "")
            if date and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
                raise src.error([*path, "date"], f"expected a date YYYY-MM-DD, got {date!r}")
            status = status.strip()
            earlier = result.get(str(key))
            if earlier is not None and earlier.raw_status != status:
                raise src.error(
                    [*path, "status"],
                    f"{key!r} is tracked twice with different statuses "
                    f"({earlier.raw_status!r} and {status!r}); Threagile refuses to merge them",
                )
            if earlier is None:
                result[str(key)] = _Tracking(STATUSES[status], status, entry)
    return result


def _tracked(
    tracking: dict[str, _Tracking], synthetic: str, src: Source, rpath: list[str | int]
) -> str | None:
    """The tracking key for a risk: the exact id, else the wildcard entries (Threagile's way)."""
    if synthetic in tracking:
        return synthetic
    if synthetic != synthetic.lower():
        return None  # Threagile stores wildcard matches under the lower-cased id: never found
    matches = [k for k in tracking if "*" in k and _wildcard(k).search(synthetic)]
    statuses = {tracking[k].raw_status for k in matches}
    if len(statuses) > 1:
        raise src.error(
            rpath,
            f"risk {synthetic!r} matches the risk_tracking entries "
            f"{', '.join(repr(k) for k in matches)} with different statuses; Threagile would "
            "pick one at random: add an entry for this exact id",
        )
    return matches[0] if matches else None


def _wildcard(key: str) -> re.Pattern[str]:
    return re.compile(re.escape(key).replace(r"\*", "[^@]+"))


def _treatments(
    threats: list[tuple[Threat, str | None]], tracking: dict[str, _Tracking]
) -> tuple[tuple[Mitigation, ...], tuple[AcceptedRisk, ...]]:
    mitigations: dict[str, Mitigation] = {}
    accepted = []
    for threat, key in threats:
        if key is None:
            continue
        tracked = tracking[key]
        justification = str(tracked.entry.get("justification") or "")
        if tracked.status is ThreatStatus.MITIGATED:
            tests, requirements = refs_from_text(justification)
            previous = mitigations.get(key)
            covered = (previous.threats if previous else ()) + (threat.id,)
            title = justification.strip().splitlines()[0][:120] if justification.strip() else key
            mitigations[key] = Mitigation(f"M:{key}", title, covered, requirements, tests)
        elif tracked.status is ThreatStatus.ACCEPTED:
            approver = str(tracked.entry.get("checked_by") or "")
            accepted.append(AcceptedRisk(threat.id, justification, approver, None))
    return tuple(mitigations.values()), tuple(accepted)


def _field(src: Source, table: dict[str, Any], path: list[str | int], key: str) -> str:
    return text(src, table.get(key), [*path, key], key)


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
