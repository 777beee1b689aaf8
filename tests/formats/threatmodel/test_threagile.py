from __future__ import annotations

import json
from collections import Counter

import jsonschema
import pytest
import yaml

from sdl_tracker.errors import InputError
from sdl_tracker.formats.threatmodel import load
from sdl_tracker.formats.threatmodel.model import ModelFormat
from sdl_tracker.formats.threatmodel.source import parse

from .samples import DATA, sample, schema

FIXTURE = (DATA / "updater.threagile.yaml").read_bytes()


def test_fixture_is_valid_threagile() -> None:
    validator = jsonschema.Draft7Validator(json.loads(schema("threagile.schema.json").read_text()))
    data = parse("updater.threagile.yaml", FIXTURE).data  # dates stay strings, as the schema wants
    assert list(validator.iter_errors(data)) == []


def test_individual_risks_take_the_status_of_their_tracking_entry() -> None:
    model = load("updater.threagile.yaml", FIXTURE)
    assert model.format is ModelFormat.THREAGILE
    assert [(t.id, t.status.value) for t in model.threats] == [
        ("unsigned-image@update-agent", "mitigated"),  # tracked exactly
        ("unsigned-image@update-server", "open"),  # not tracked
        ("missing-hardening@*", "accepted"),  # tracking entries for generated risks
        ("unencrypted-asset@*", "open"),  # in-progress
    ]
    first = model.threats[0]
    assert (first.category, first.likelihood, first.impact, first.targets) == (
        "tampering",
        "likely",
        "very-high",
        ("update-agent",),
    )
    assert first.title == "Unsigned Image Accepted at Update Agent"
    (mitigation,) = model.mitigations
    assert mitigation.tests == ("tests/test_agent.py::test_rejects_unsigned_image",)
    assert mitigation.requirements == ("SR-3.1",)
    assert [(r.threat, r.approver) for r in model.accepted_risks] == [
        ("missing-hardening@*", "Grace Hopper")
    ]
    assert [c.id for c in model.components] == ["update-agent", "update-server"]


def test_wildcard_tracking_applies_to_individual_risks() -> None:
    data = yaml.safe_load(FIXTURE)
    data["risk_tracking"] = {
        "unsigned-image@*": {
            "status": "false-positive",
            "justification": "x",
            "ticket": "",
            "date": "2024-04-02",
            "checked_by": "Grace",
        }
    }
    model = load("m.threagile.yaml", yaml.safe_dump(data).encode())
    assert [(t.id, t.status.value) for t in model.threats] == [
        ("unsigned-image@update-agent", "accepted"),
        ("unsigned-image@update-server", "accepted"),
    ]


def test_real_sample_counts() -> None:
    raw = sample("threagile/threagile-example.yaml").read_bytes()
    data = yaml.safe_load(raw)
    individual = [
        r for c in data["individual_risk_categories"].values() for r in c["risks_identified"]
    ]
    tracking = Counter(e["status"] for e in data["risk_tracking"].values())
    assert len(individual) == 2 and sum(tracking.values()) == 6
    assert tracking == {"mitigated": 4, "accepted": 1, "in-progress": 1}
    model = load("threagile-example.yaml", raw)
    # 2 individual risks (untracked: open) + 6 tracking entries for generated risks.
    assert len(model.threats) == 8
    assert Counter(t.status.value for t in model.threats) == {
        "mitigated": 4,
        "accepted": 1,
        "open": 3,
    }


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    status: in-progress\n",
            "    status: done\n",
            "updater.threagile.yaml:133: $.risk_tracking.unencrypted-asset@*.status: unknown risk "
            "tracking status 'done'",
        ),
        (
            "    id: unsigned-image\n",
            "    id: [unsigned-image]\n",
            "$.individual_risk_categories.Unsigned Image Accepted.id: expected the category id",
        ),
        (
            "risk_tracking:\n",
            "risk_tracking:\n  broken: yes\n",
            "$.risk_tracking.broken: expected a risk tracking entry (an object), got a boolean",
        ),
    ],
)
def test_malformed_threagile_models(old: str, new: str, expected: str) -> None:
    text = FIXTURE.decode()
    assert old in text
    with pytest.raises(InputError) as e:
        load("updater.threagile.yaml", text.replace(old, new, 1).encode())
    assert expected in str(e.value)
