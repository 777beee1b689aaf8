from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from sdl_tracker.errors import InputError
from sdl_tracker.formats.threatmodel import load
from sdl_tracker.formats.threatmodel.model import ModelFormat, ThreatStatus
from sdl_tracker.formats.threatmodel.requirements import load as load_requirements

DATA = Path(__file__).parents[2] / "data" / "threatmodel"
NATIVE = (DATA / "threat-model.yaml").read_text()


def test_reads_every_section_of_the_native_model() -> None:
    model = load("threat-model.yaml", NATIVE.encode())
    assert model.format is ModelFormat.NATIVE
    assert model.system.name == "Pump controller firmware updater"
    assert [a.id for a in model.assets] == ["A-1", "A-2"]
    assert [c.id for c in model.components] == ["C-1", "C-2", "C-3"]
    assert model.owned_paths() == ("src/agent/**", "src/server/**", "deploy/server.yaml")
    assert model.trust_boundaries[0].components == ("C-1",)
    flow = model.data_flows[0]
    assert (flow.source, flow.target, flow.data, flow.crosses) == (
        "C-2",
        "C-1",
        ("A-1",),
        ("TB-1",),
    )
    assert [(t.id, t.category, t.status) for t in model.threats] == [
        ("T-001", "tampering", ThreatStatus.MITIGATED),
        ("T-002", "spoofing", ThreatStatus.MITIGATED),
        ("T-003", "information_disclosure", ThreatStatus.ACCEPTED),
    ]
    assert model.threats[0].likelihood == "medium" and model.threats[0].impact == "critical"
    m = model.mitigations[0]
    assert (m.threats, m.requirements, m.tests) == (
        ("T-001",),
        ("SR-3.1",),
        ("tests/test_agent.py::test_rejects_unsigned_image",),
    )
    risk = model.accepted_risks[0]
    assert (risk.threat, risk.approver, risk.date) == (
        "T-003",
        "Grace Hopper <grace@example.com>",
        date(2024, 4, 2),
    )


def test_normalised_json_keeps_everything() -> None:
    model = load("threat-model.yaml", NATIVE.encode())
    data = json.loads(json.dumps(model.to_json()))
    assert data["format"] == "native"
    assert data["threats"][2]["status"] == "accepted"
    assert data["accepted_risks"][0]["date"] == "2024-04-02"
    assert data["components"][1]["paths"] == ["src/server/**", "deploy/server.yaml"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    stride: tampering\n",
            "    stride: tamper\n",
            "threat-model.yaml:39: $.threats[0].stride: 'tamper' is not one of",
        ),
        ("version: 1\n", "version: 2\n", "threat-model.yaml:2: $.version: 1 was expected"),
        (
            "  - id: T-002\n",
            "  - id: T-001\n",
            "threat-model.yaml:44: $.threats[1].id: 'T-001' is already used by threats[0]",
        ),
        (
            "    threats: [T-001]\n",
            "    threats: [T-009]\n",
            "$.mitigations[0].threats[0]: 'T-009' names no entry of threats",
        ),
        (
            "    targets: [C-2]\n",
            "    targets: [C-9]\n",
            "threat-model.yaml:47: $.threats[1].targets[0]: 'C-9' names no entry of components "
            "or data_flows or assets",
        ),
        (
            "    from: C-2\n",
            "    from: nowhere\n",
            "$.data_flows[0].from: 'nowhere' names no entry of components",
        ),
        (
            "    threats: [T-002]\n",
            "    threats: [T-001]\n",
            "threat-model.yaml:50: $.threats[1].status: T-002 is 'mitigated' but no mitigation "
            "lists it",
        ),
        (
            "  - threat: T-003\n",
            "  - threat: T-002\n",
            "$.threats[2].status: T-003 is 'accepted' but accepted_risks has no entry",
        ),
        (
            "    date: 2024-04-02\n",
            "    date: 2024-02-30\n",
            "threat-model.yaml:73: $.accepted_risks[0].date: '2024-02-30' is not a calendar date",
        ),
        (
            "    approver: Grace Hopper <grace@example.com>\n",
            "",
            "$.accepted_risks[0]: 'approver' is a required property",
        ),
        ("  owner: ", "  owners: ", "$.system: Additional properties are not allowed"),
        ("  - id: T-003\n", "  - id: T-3x\n", "$.threats[2].id: 'T-3x' does not match"),
        ("threats:\n", "threats:\n  - [\n", "threat-model.yaml:38: invalid YAML"),
    ],
)
def test_malformed_models_name_file_line_and_place(old: str, new: str, expected: str) -> None:
    assert old in NATIVE
    with pytest.raises(InputError) as e:
        load("threat-model.yaml", NATIVE.replace(old, new, 1).encode())
    assert expected in str(e.value)


def test_accepted_risk_for_a_threat_that_is_not_accepted_is_rejected() -> None:
    text = NATIVE.replace("    status: accepted\n", "    status: open\n")
    with pytest.raises(InputError, match=r"accepted_risks\[0\]\.threat: T-003 has an accepted"):
        load("threat-model.yaml", text.encode())


def test_not_utf8_is_an_input_error() -> None:
    with pytest.raises(InputError, match="expected UTF-8"):
        load("threat-model.yaml", b"version: 1\nsystem: {name: \xff}\n")


def _first_yaml_block(page: str, heading: str) -> bytes:
    text = (Path(__file__).resolve().parents[3] / "docs" / "collectors" / page).read_text()
    section = text[text.index(f"\n## {heading}\n") :]
    start = section.index("```yaml\n") + 8
    return section[start : section.index("```\n", start)].encode()


def test_the_manual_examples_are_valid() -> None:
    model = load("threat-model.md", _first_yaml_block("threat-model.md", "The native format"))
    assert [t.id for t in model.threats] == ["T-001", "T-002", "T-003"]
    requirements = _first_yaml_block("tests.md", "The security requirements file")
    assert [r.id for r in load_requirements("tests.md", requirements)] == ["SR-1.2", "SR-3.1"]
