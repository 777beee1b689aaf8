from __future__ import annotations

import json
from collections import Counter

import jsonschema
import pytest

from sdl_tracker.errors import InputError
from sdl_tracker.formats.threatmodel import load
from sdl_tracker.formats.threatmodel.model import ModelFormat

from .samples import DATA, sample, schema

FIXTURE = (DATA / "app.threatdragon.json").read_bytes()


def test_fixture_is_valid_threat_dragon_v2() -> None:
    validator = jsonschema.Draft7Validator(
        json.loads(schema("threat-dragon-v2.schema.json").read_text())
    )
    assert list(validator.iter_errors(json.loads(FIXTURE))) == []


def test_reads_threats_statuses_and_mitigations() -> None:
    model = load("app.threatdragon.json", FIXTURE)
    assert model.format is ModelFormat.THREAT_DRAGON
    assert model.system.name == "Pump controller updater"
    statuses = [(t.id[-1], t.status.value, t.category) for t in model.threats]
    assert statuses == [
        ("1", "mitigated", "tampering"),
        ("2", "open", "denial_of_service"),
        ("3", "accepted", "repudiation"),  # NotApplicable
        ("4", "mitigated", "tampering"),  # Avoided
        ("5", "accepted", "information_disclosure"),  # Transferred
    ]
    assert model.threats[0].targets == ("Update agent",)
    assert model.threats[0].impact == "high"
    # Only mitigated threats' text is a mitigation; the first names its test and requirement.
    tested, untested = model.mitigations
    assert tested.tests == ("tests/test_agent.py::test_rejects_unsigned_image",)
    assert tested.requirements == ("SR-3.1",)
    assert untested.tests == ()
    assert [r.approver for r in model.accepted_risks] == ["Grace Hopper", "Grace Hopper"]
    assert [c.name for c in model.components] == ["Update agent", "Image cache"]
    assert [(f.source, f.target) for f in model.data_flows] == [("store", "agent")]
    assert [b.name for b in model.trust_boundaries] == ["Device"]


def test_real_sample_counts_every_cell_threat() -> None:
    raw = sample("threat-dragon/v2-threat-model.json").read_bytes()
    # Independently of the importer: every entry of every cell's data.threats.
    entries = [
        t
        for diagram in json.loads(raw)["detail"]["diagrams"]
        for cell in diagram["cells"]
        for t in cell.get("data", {}).get("threats", [])
    ]
    assert len(entries) == 14
    assert Counter(t["status"] for t in entries) == {"Open": 10, "Mitigated": 4}
    model = load("v2-threat-model.json", raw)
    assert len(model.threats) == 14
    assert Counter(t.status.value for t in model.threats) == {"open": 10, "mitigated": 4}
    assert len(model.mitigations) == 4
    assert all(not m.tests for m in model.mitigations)


def test_real_malformed_sample_is_an_input_error_with_its_place() -> None:
    raw = sample("threat-dragon/v2-malformed-new-model.json").read_bytes()
    with pytest.raises(InputError) as e:
        load("v2-malformed-new-model.json", raw)
    assert str(e.value).startswith("v2-malformed-new-model.json:3: $.summary.title: expected")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("detail"), "$.detail: expected the model detail"),
        (
            lambda d: d["detail"]["diagrams"][0]["cells"][0]["data"]["threats"][1].update(
                status="Maybe"
            ),
            "$.detail.diagrams[0].cells[0].data.threats[1].status: unknown threat status 'Maybe'",
        ),
        (
            lambda d: d["detail"]["diagrams"][0]["cells"][1]["data"].update(threats={"a": 1}),
            "$.detail.diagrams[0].cells[1].data.threats: expected the threats (a list), got an "
            "object",
        ),
        (
            lambda d: d["detail"]["diagrams"][0]["cells"][0]["data"]["threats"][0].pop("title"),
            "$.detail.diagrams[0].cells[0].data.threats[0].title: expected the threat title",
        ),
        (
            lambda d: d["detail"]["diagrams"][0].update(diagramJson={}),
            "this is a Threat Dragon v1 model",
        ),
    ],
)
def test_malformed_threat_dragon_models(change, expected: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(FIXTURE)
    change(data)
    with pytest.raises(InputError) as e:
        load("app.threatdragon.json", json.dumps(data, indent=2).encode())
    assert expected in str(e.value)


def test_json_errors_name_the_line_of_the_value() -> None:
    text = FIXTURE.decode().replace('"status": "Open"', '"status": "Maybe"')
    line = next(i for i, s in enumerate(text.splitlines(), 1) if '"Maybe"' in s)
    with pytest.raises(InputError) as e:
        load("app.threatdragon.json", text.encode())
    assert str(e.value).startswith(f"app.threatdragon.json:{line}: $.detail.diagrams[0]")


def test_invalid_json_names_line_and_column() -> None:
    with pytest.raises(InputError, match=r"^m\.json:2:14: invalid JSON"):
        load("m.json", b'{"summary": {},\n  "detail": {,}}')
