"""findings.sarif stays within GitHub's 20 runs per upload: runs of one tool are merged, no
result, rule or invocation is lost, and every run keeps a category of its own."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
from export_support import schema
from node_tools import github_sarif_errors

from sdl_tracker.conformance.evidence import records
from sdl_tracker.conformance.model import Conformance
from sdl_tracker.exporters import sarif, sarifruns
from sdl_tracker.exporters.source import Source
from sdl_tracker.ledger import artifact
from sdl_tracker.models import Predicate, Result, ResultStatus, Statement, Tool

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def _model(path: str, threats: list[tuple[str, str]]) -> tuple[Statement, dict[str, bytes]]:
    """A failing threat-model entry for `path` whose `threats` (id, title) are all open."""
    text = "threats:\n" + "".join(f"  - id: {t}\n    title: {title}\n" for t, title in threats)
    normalised = {
        "path": path,
        "threats": [{"id": t, "title": title, "category": "tampering"} for t, title in threats],
    }
    stored = [
        artifact(path, text.encode()),
        artifact(f"{path}.normalised.json", json.dumps(normalised).encode()),
    ]
    st = Statement(
        commit="c" * 40,
        artifacts=tuple(a for a, _ in stored),
        predicate=Predicate(
            kind="threat_model",
            collector="threat_model",
            tool=Tool("sdl-tracker threat-model", "0.1.0"),
            requirements=("SR-2",),
            result=Result(ResultStatus.FAIL, f"{path}: {len(threats)} open"),
            recorded_by="Ada Lovelace <ada@example.com>",
            recorded_at=NOW,
            details={"model": path, "open": [t for t, _ in threats]},
        ),
    )
    return st, {a.sha256: d for a, d in stored}


def _source(*items: tuple[Statement, dict[str, bytes]]) -> Source:
    conf = Conformance("c" * 40, NOW, "p", "0" * 64, (), ())
    objects = {k: v for _, o in items for k, v in o.items()}
    return Source(conformance=conf, records=records([s for s, _ in items]), objects=objects)


def _locations(log: dict) -> list[tuple[str, str, int]]:
    return sorted(
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for run in log["runs"]
        for r in run["results"]
    )


def test_twenty_five_threat_models_fit_in_one_run_and_lose_no_result(tmp_path: Path) -> None:
    # Every model defines T-1 (a different threat each time) and a threat of its own.
    models = [
        _model(f"models/m{i:02}.yaml", [("T-1", f"Threat one of model {i}"), (f"X-{i}", "Own")])
        for i in range(25)
    ]
    log = sarif.log(_source(*models))
    assert (
        list(jsonschema.Draft4Validator(schema("sarif-schema-2.1.0.json")).iter_errors(log)) == []
    )
    assert len(log["runs"]) <= sarifruns.MAX_RUNS
    (run,) = log["runs"]
    assert run["automationDetails"]["id"] == "sdl-tracker/threat-model/sdl-tracker-threat-model/"
    assert len(run["results"]) == 50
    assert len(run["invocations"]) == 25  # one per model entry, in order
    merged = run["properties"]["sdl-tracker"]["merged"]
    assert [m["summary"] for m in merged] == [f"models/m{i:02}.yaml: 2 open" for i in range(25)]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert len(rules) == 50  # T-1 of each model stays its own rule
    for result in run["results"]:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        rule = rules[result["ruleId"]]
        if result["ruleId"].startswith("T-1"):
            title = f"Threat one of model {int(uri[8:10])}"
            assert rule["shortDescription"]["text"] == f"Open threat: {title}"
            assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert rules["T-1"]["shortDescription"]["text"] == "Open threat: Threat one of model 0"
    assert "T-1@threat-model/models/m07.yaml" in rules
    separate = [sarif.log(_source(m)) for m in models]
    assert _locations(log) == sorted(
        (r if r[0] != "T-1" or r[1] == "models/m00.yaml" else (f"T-1@threat-model/{r[1]}",) + r[1:])
        for one in separate
        for r in _locations(one)
    )
    path = tmp_path / "findings.sarif"
    path.write_text(json.dumps(log))
    assert github_sarif_errors(path, tmp_path) == []  # GH1004's run limit (5) included


def test_twenty_models_keep_one_run_each() -> None:
    log = sarif.log(_source(*(_model(f"m{i}.yaml", [("T-1", f"t{i}")]) for i in range(20))))
    assert [r["automationDetails"]["id"] for r in log["runs"]] == [
        f"sdl-tracker/threat-model/m{i}.yaml/" for i in range(20)
    ]
    assert all(r["results"][0]["ruleId"] == "T-1" for r in log["runs"])


def _run(kind: str, tool: str, category: str, rules: list[str], results: list[str]) -> dict:
    return {
        "tool": {"driver": {"name": tool, "version": "1", "rules": [{"id": r} for r in rules]}},
        "invocations": [{"executionSuccessful": True}],
        "results": [{"ruleId": r, "ruleIndex": rules.index(r)} for r in results],
        "properties": {"sdl-tracker": {"kind": kind, "entry": category}},
        "automationDetails": {"id": f"sdl-tracker/{category}/"},
    }


def test_rule_indexes_follow_the_merged_rules() -> None:
    a = _run("sast", "bandit", "sast/bandit", ["B101", "B105"], ["B105", "B101"])
    b = _run("sast", "bandit", "sast/bandit-entry-7", ["B602", "B105"], ["B602", "B105"])
    b["tool"]["driver"]["rules"][1]["help"] = {"text": "other"}  # same id, different content
    other = _run("secret_scan", "detect-secrets", "secret-scan/detect-secrets", ["AWS"], ["AWS"])
    runs = sarifruns.limit([a, other, b], max_runs=2)
    assert [r["automationDetails"]["id"] for r in runs] == [
        "sdl-tracker/sast/bandit/",
        "sdl-tracker/secret-scan/detect-secrets/",
    ]
    merged = runs[0]
    ids = [r["id"] for r in merged["tool"]["driver"]["rules"]]
    assert ids == ["B101", "B105", "B602", "B105@sast/bandit-entry-7"]
    pairs = [(r["ruleId"], ids[r["ruleIndex"]]) for r in merged["results"]]
    assert all(rule == indexed for rule, indexed in pairs)
    assert [p[0] for p in pairs] == ["B105", "B101", "B602", "B105@sast/bandit-entry-7"]
    assert merged["tool"]["driver"]["version"] == "1"


def test_different_tools_of_one_kind_merge_last_and_categories_stay_distinct() -> None:
    runs = [_run("sast", f"tool{i}", f"sast/tool{i}", ["R"], ["R"]) for i in range(3)]
    runs.append(_run("threat_model", "tm", "threat-model/a.yaml", ["T"], ["T"]))
    runs.append(_run("threat_model", "tm", "threat-model/b.yaml", ["T"], ["T"]))
    limited = sarifruns.limit(runs, max_runs=2)
    assert len(limited) == 2
    assert sorted(len(r["results"]) for r in limited) == [2, 3]
    sast = next(r for r in limited if r["properties"]["sdl-tracker"]["kind"] == "sast")
    assert sast["tool"]["driver"]["name"] == "sdl-tracker sast"
    assert sast["properties"]["sdl-tracker"]["tools"] == "tool0, tool1, tool2"
    assert [r["ruleId"] for r in sast["results"]] == ["R", "R", "R"]  # identical rules shared
    categories = [r["automationDetails"]["id"] for r in limited]
    assert len(set(categories)) == 2
    assert sarifruns.limit(runs) == runs  # five runs fit: unchanged


def test_a_repeated_category_gets_a_suffix() -> None:
    runs = [_run("sast", "a", "x", [], []), _run("sast", "b", "x", [], [])]
    assert [r["automationDetails"]["id"] for r in sarifruns.limit(runs)] == [
        "sdl-tracker/x/",
        "sdl-tracker/x-2/",
    ]


def test_merging_keeps_what_is_not_a_rule_as_it_is() -> None:
    run = _run("sast", "a", "s", ["R"], ["R"])
    del run["results"][0]["ruleIndex"]
    run["results"].append("not a result")
    run["tool"]["driver"]["rules"].append("not a rule")
    merged = sarifruns.merge([run, replace_category(run, "t")])
    assert [r["ruleId"] for r in merged["results"]] == ["R", "R"]
    assert "ruleIndex" not in merged["results"][0]


def replace_category(run: dict, category: str) -> dict:
    return {**run, "automationDetails": {"id": f"sdl-tracker/{category}/"}}
