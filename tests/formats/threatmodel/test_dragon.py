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


def _crossing(model) -> dict[str, tuple[str, ...]]:  # type: ignore[no-untyped-def]
    from sdl_tracker.formats.threatmodel import levels

    zones = {b.id for b in model.trust_boundaries}
    found = {ident for ident, _ in levels.needing(model) if ident not in zones}
    names = {c.id: c.name.replace("\n", " ") for c in model.components}
    return {
        f"{names[f.source]} -> {names[f.target]}": f.crosses
        for f in model.data_flows
        if f.id in found
    }


def test_real_sample_flows_cross_the_boundary_curves_they_cut() -> None:
    """Threat Dragon's demo model: the boundary curves around the database and around the
    message queue cut flows between two internal elements; the configuration reads stay inside."""
    model = load("demo.json", sample("threat-dragon/v2-threat-model.json").read_bytes())
    crossing = _crossing(model)
    assert set(crossing) == {
        "Browser -> Web Application",
        "Web Application -> Browser",
        "Web Application -> Message Queue",
        "Message Queue -> Background Worker Process",
        "Web Application -> Database",
        "Database -> Web Application",
        "Database -> Background Worker Process",
        "Background Worker Process -> Database",
    }
    curves = {b.id for b in model.trust_boundaries}
    assert all(len(c) == 1 and set(c) <= curves for c in crossing.values())
    assert crossing["Web Application -> Database"] == crossing["Database -> Web Application"]


def _box_model(**agent: object) -> bytes:
    """A diagram with a trust-boundary box around the update agent (by geometry, or embedded
    with `parent`), the image cache outside it, and a flow between the two."""
    cell = {"shape": "process", "id": "agent", "data": {"type": "tm.Process", "name": "Agent"}}
    cell.update({"position": {"x": 100, "y": 100}, "size": {"width": 100, "height": 100}})
    cell.update(agent)
    cells = [
        {
            "shape": "trust-boundary-box",
            "id": "device",
            "data": {"type": "tm.BoundaryBox", "name": "Device"},
            "position": {"x": 50, "y": 50},
            "size": {"width": 250, "height": 250},
        },
        cell,
        {
            "shape": "store",
            "id": "cache",
            "data": {"type": "tm.Store", "name": "Cache"},
            "position": {"x": 400, "y": 100},
            "size": {"width": 160, "height": 80},
        },
        {
            "shape": "flow",
            "id": "read",
            "data": {"type": "tm.Flow", "name": "Read image"},
            "source": {"cell": "cache"},
            "target": {"cell": "agent"},
        },
    ]
    model = {"summary": {"title": "Box"}, "detail": {"diagrams": [{"cells": cells}]}}
    return json.dumps(model).encode()


@pytest.mark.parametrize(
    ("agent", "inside"),
    [
        ({}, True),  # its centre is inside the box
        ({"position": {"x": 600, "y": 600}}, False),  # drawn outside
        ({"position": {"x": 600, "y": 600}, "parent": "device"}, True),  # embedded in it
        ({"position": "nowhere"}, False),  # no usable coordinates: not known to be inside
    ],
)
def test_a_boundary_box_holds_what_it_encloses_or_embeds(agent: dict, inside: bool) -> None:  # type: ignore[type-arg]
    model = load("box.json", _box_model(**agent))
    (box,) = model.trust_boundaries
    assert box.components == (("agent",) if inside else ())
    assert ("Cache -> Agent" in _crossing(model)) is inside


def test_a_drawing_too_big_to_place_is_refused() -> None:
    data = json.loads(_box_model())
    vertices = [{"x": i, "y": i % 7} for i in range(1500)]
    curve = {"shape": "trust-boundary-curve", "id": "c", "data": {"type": "tm.Boundary"}}
    curve.update({"source": {"x": 0, "y": 0}, "target": {"x": 9, "y": 9}, "vertices": vertices})
    data["detail"]["diagrams"][0]["cells"] += [curve, curve | {"id": "d"}]
    flow = data["detail"]["diagrams"][0]["cells"][3]
    flow["vertices"] = vertices
    with pytest.raises(InputError, match="pairs of segments: not a drawing this importer places"):
        load("big.json", json.dumps(data).encode())
