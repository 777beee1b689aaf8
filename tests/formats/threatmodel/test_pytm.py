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
