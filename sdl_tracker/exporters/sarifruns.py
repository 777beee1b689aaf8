"""GitHub code scanning takes at most 20 runs per SARIF upload: merge runs until the log fits.

`findings.sarif` has one run per evidence entry (one per threat-model file), each in its own
`automationDetails.id` category. When there are more than `MAX_RUNS`, the runs of one kind and
tool (the largest group first; then, if needed, the runs of one kind whatever their tool) become
one run in the category `sdl-tracker/<kind>/<tool>/`: every result kept at its file and line,
every run's invocation kept (in order), each run's `properties.sdl-tracker` listed under
`merged`, and a rule id that two runs define differently qualified with its run's subject
(`T-1@threat-model/a.yaml`), so no result points at another run's rule. GitHub's documented
limit is 20 runs per file; the SARIF Multitool's GH1004 check uses 5 as its test default.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sdl_tracker.models import JSON

MAX_RUNS = 20
Run = dict[str, JSON]


def limit(runs: Sequence[Run], max_runs: int = MAX_RUNS) -> list[Run]:
    """`runs` with groups merged until there are at most `max_runs` (unchanged when they fit)."""
    current = list(runs)
    for key in (_tool_key, _kind_key):
        while len(current) > max_runs:
            groups: dict[str, list[int]] = {}
            for i, run in enumerate(current):
                groups.setdefault(key(run), []).append(i)
            members = max(groups.values(), key=len)
            if len(members) < 2:
                break
            merged = merge([current[i] for i in members])
            current = [
                merged if i == members[0] else run
                for i, run in enumerate(current)
                if i == members[0] or i not in members
            ]
    return _distinct(current)


def _distinct(runs: list[Run]) -> list[Run]:
    """Every run in its own category (GitHub rejects two runs of one category in an upload)."""
    taken: set[str] = set()
    for run in runs:
        details = run.get("automationDetails")
        if not isinstance(details, dict):
            continue
        category = str(details.get("id", "")).rstrip("/")
        unique, n = category, 1
        while unique in taken:
            n += 1
            unique = f"{category}-{n}"
        taken.add(unique)
        details["id"] = unique + "/"
    return runs


def merge(runs: Sequence[Run]) -> Run:
    """One run holding every result, rule, invocation and evidence reference of `runs`."""
    kind = _kind(runs[0])
    names = list(dict.fromkeys(_driver(r).get("name") for r in runs))
    versions = list(dict.fromkeys(_driver(r).get("version") for r in runs))
    rules: list[JSON] = []
    by_id: dict[str, tuple[int, str]] = {}
    results: list[JSON] = []
    invocations: list[JSON] = []
    merged: list[JSON] = []
    for run in runs:
        renamed, index = _adopt(run, rules, by_id)
        for result in _list(run.get("results")):
            if isinstance(result, dict):
                results.append(_rerule(result, renamed, index))
        invocations.extend(_list(run.get("invocations")))
        props = run.get("properties")
        if isinstance(props, dict):
            merged.append(props.get("sdl-tracker"))
    driver: dict[str, JSON] = {
        "name": str(names[0]) if len(names) == 1 else f"sdl-tracker {kind.replace('_', '-')}",
        "rules": rules,
    }
    if len(versions) == 1 and isinstance(versions[0], str):
        driver["version"] = versions[0]
    tools = ", ".join(str(n) for n in names)
    return {
        "tool": {"driver": driver},
        "invocations": invocations,
        "results": results,
        "properties": {"sdl-tracker": {"kind": kind, "tools": tools, "merged": merged}},
        "automationDetails": {"id": f"sdl-tracker/{kind.replace('_', '-')}/{_slug(tools)}/"},
    }


def _adopt(
    run: Run, rules: list[JSON], by_id: dict[str, tuple[int, str]]
) -> tuple[dict[str, str], dict[str, int]]:
    """Add `run`'s rules to `rules`; the ids it must use instead, and every id's index."""
    renamed: dict[str, str] = {}
    for rule in _list(_driver(run).get("rules")):
        if not isinstance(rule, dict):
            continue
        rid = str(rule.get("id"))
        same = json.dumps(rule, sort_keys=True)
        if rid in by_id and by_id[rid][1] != same:
            new = f"{rid}@{_subject(run)}"
            renamed[rid] = new
            rule = {**rule, "id": new}
            rid, same = new, json.dumps(rule, sort_keys=True)
        if rid not in by_id:
            by_id[rid] = (len(rules), same)
            rules.append(rule)
    return renamed, {rid: i for rid, (i, _) in by_id.items()}


def _rerule(result: dict[str, JSON], renamed: dict[str, str], index: dict[str, int]) -> JSON:
    rid = str(result.get("ruleId"))
    rid = renamed.get(rid, rid)
    out = {**result, "ruleId": rid}
    if "ruleIndex" in result:
        out["ruleIndex"] = index[rid]
    return out


def _subject(run: Run) -> str:
    """What the run was about: its category without the `sdl-tracker/` prefix."""
    details = run.get("automationDetails")
    category = str(details.get("id", "")) if isinstance(details, dict) else ""
    return category.removeprefix("sdl-tracker/").strip("/") or "run"


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "-" for c in text).strip("-") or "runs"


def _kind(run: Run) -> str:
    props = run.get("properties")
    own = props.get("sdl-tracker") if isinstance(props, dict) else None
    return str(own.get("kind", "")) if isinstance(own, dict) else ""


def _tool_key(run: Run) -> str:
    return f"{_kind(run)}\0{_driver(run).get('name')}"


def _kind_key(run: Run) -> str:
    return _kind(run)


def _driver(run: Run) -> dict[str, JSON]:
    tool = run.get("tool")
    driver = tool.get("driver") if isinstance(tool, dict) else None
    return driver if isinstance(driver, dict) else {}


def _list(value: JSON) -> list[JSON]:
    return value if isinstance(value, list) else []
