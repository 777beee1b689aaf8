from __future__ import annotations

import json

import pytest

from sdl_tracker.errors import InputError
from sdl_tracker.formats.threatmodel import load
from sdl_tracker.formats.threatmodel.model import ModelFormat

from .samples import DATA, sample

FIXTURE = (DATA / "updater.pytm.json").read_bytes()


def test_findings_statuses_come_from_their_response() -> None:
    model = load("updater.pytm.json", FIXTURE)
    assert model.format is ModelFormat.PYTM
    assert model.system.name == "Pump controller updater"
    assert [(t.id, t.status.value) for t in model.threats] == [
        ("INP02@Update agent", "mitigated"),  # "Mitigated: ..."
        ("AC01@Update agent", "open"),  # "**To Mitigate**: ..." is a plan, not a mitigation
        ("DE01@Start update", "accepted"),  # "Accepted: ..."
        ("LB01@Update agent", "accepted"),  # excluded by a documented assumption
    ]
    assert (model.threats[0].impact, model.threats[0].likelihood) == ("very high", "high")
    (mitigation,) = model.mitigations
    assert mitigation.tests == ("tests/test_agent.py::test_rejects_oversized_image",)
    assert model.accepted_risks[1].rationale == "No public API"
    # Elements' sourceFiles are the paths the component owns.
    assert model.owned_paths() == ("src/agent/install.py", "src/agent/verify.py")
    assert [f.source for f in model.data_flows] == ["Operator"]


def test_real_sample_has_no_findings() -> None:
    raw = sample("pytm/pytm-json-report.json").read_bytes()
    data = json.loads(raw)
    assert len(data["findings"]) == 0 and len(data["excluded_findings"]) == 0
    model = load("pytm-json-report.json", raw)
    assert model.format is ModelFormat.PYTM
    assert model.threats == ()
    assert len(model.components) == 5


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["findings"][1].pop("threat_id"), "$.findings[1].threat_id: expected"),
        (lambda d: d.update(findings={}), "$.findings: expected the findings (a list)"),
        (lambda d: d["elements"][1].update(sourceFiles="src"), "$.elements[1].sourceFiles"),
        (lambda d: d.pop("name"), "$.name: expected the model name"),
    ],
)
def test_malformed_pytm_reports(change, expected: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(FIXTURE)
    change(data)
    with pytest.raises(InputError) as e:
        load("updater.pytm.json", json.dumps(data).encode())
    assert expected in str(e.value)


def _crossing(model) -> list[str]:  # type: ignore[no-untyped-def]
    from sdl_tracker.formats.threatmodel import levels

    zones = {b.id for b in model.trust_boundaries}
    return [ident for ident, _ in levels.needing(model) if ident not in zones]


def test_real_sample_flows_between_internal_elements_cross_their_boundaries() -> None:
    """pytm's `inBoundary` puts the SQL database in "Server/DB": the web server's query crosses
    that boundary although neither end is external; the call to the lambda (both outside any
    boundary) crosses none."""
    model = load("report.json", sample("pytm/pytm-json-report.json").read_bytes())
    members = {b.id: b.components for b in model.trust_boundaries}
    assert members == {"Internet": ("User",), "Server/DB": ("SQL Database",)}
    crossing = _crossing(model)
    assert "Insert query with comments" in crossing  # Web Server -> SQL Database
    assert "Query for tasks" in crossing  # Task queue worker -> SQL Database
    assert "Call func" not in crossing  # Web Server -> Lambda func


def test_nested_boundaries_hold_the_elements_of_the_inner_one() -> None:
    data = json.loads(sample("pytm/pytm-json-report.json").read_bytes())
    inner = dict(data["boundaries"][1], name="DB host", inBoundary="Server/DB")
    data["boundaries"].append(inner)
    for element in data["elements"]:
        if element["name"] == "SQL Database":
            element["inBoundary"] = "DB host"
        if element["name"] == "Lambda func":
            element["inBoundary"] = {"name": "Server/DB"}  # the boundary itself, not its name
    model = load("report.json", json.dumps(data).encode())
    members = {b.id: b.components for b in model.trust_boundaries}
    assert members["DB host"] == ("SQL Database",)
    assert set(members["Server/DB"]) == {"SQL Database", "Lambda func"}
    crossing = _crossing(model)
    assert "Call func" in crossing  # Web Server (outside) -> Lambda func (in Server/DB)
