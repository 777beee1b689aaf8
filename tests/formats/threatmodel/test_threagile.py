from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
import yaml

from sdl_tracker.errors import InputError
from sdl_tracker.formats.threatmodel import load, read
from sdl_tracker.formats.threatmodel.model import ModelFormat, ThreatModel
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


SPLIT = DATA / "threagile"


def _read(root: Path, name: str) -> ThreatModel:
    return read(root / name, name)[0]


def test_a_split_model_counts_what_threagile_counts() -> None:
    """Threagile's engine (built from its source) reads main.yaml as: weak-crypto 3 risks, 1
    mitigated and 2 accepted; audit-gap 2 risks, 1 in-progress, 1 false-positive."""
    model = _read(SPLIT, "main.yaml")
    assert [(t.id, t.status.value) for t in model.threats] == [
        ("weak-crypto@api", "mitigated"),
        ("weak-crypto@db@customer-data", "accepted"),  # wildcard: 3 parts, `*` is one part
        ("weak-crypto@worker", "accepted"),
        ("audit-gap@queue", "accepted"),  # false-positive
        ("audit-gap", "open"),  # in-progress, exact id
    ]
    assert model.includes == ("inc/assets.yaml", "inc/sub/more.yaml", "inc/risks.yaml")
    assert {c.id for c in model.components} == {"api", "db", "worker", "queue"}
    (mitigation,) = model.mitigations
    assert mitigation.tests == ("tests/test_crypto.py::test_gcm",)
    assert model.to_json()["includes"] == list(model.includes)


def _model(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    return tmp_path


HEAD = "threagile_version: 1.0.0\ntitle: T\ntechnical_assets:\n  API:\n    id: api\n"
CATEGORY = (
    "  - id: {id}\n    title: C\n    function: development\n    stride: tampering\n"
    "    risks_identified:\n      R:\n        most_relevant_technical_asset: api\n"
)


def test_the_legacy_key_alone_is_read_and_both_keys_are_refused(tmp_path: Path) -> None:
    legacy = HEAD + (
        "individual_risk_categories:\n  Old:\n    id: old\n    stride: spoofing\n"
        "    risks_identified:\n      R: {most_relevant_technical_asset: api}\n"
    )
    root = _model(tmp_path, {"old.yaml": legacy})
    assert [t.id for t in _read(root, "old.yaml").threats] == ["old@api"]
    both = legacy + "custom_risk_categories:\n" + CATEGORY.format(id="new")
    root = _model(tmp_path, {"both.yaml": both})
    with pytest.raises(InputError, match="reads only one of these keys"):
        _read(root, "both.yaml")


def test_wildcards_match_as_threagile_matches_them(tmp_path: Path) -> None:
    text = (
        HEAD
        + "  Big:\n    id: API2\ncustom_risk_categories:\n"
        + CATEGORY.format(id="weak-crypto")
        + "      S:\n        most_relevant_technical_asset: API2\n"
        + "risk_tracking:\n  crypto@*: {status: mitigated}\n"
    )
    model = _read(_model(tmp_path, {"m.yaml": text}), "m.yaml")
    # unanchored: `crypto@*` covers weak-crypto@api; a capital letter is never matched.
    assert [(t.id, t.status.value) for t in model.threats] == [
        ("weak-crypto@api", "mitigated"),
        ("weak-crypto@API2", "open"),
    ]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"a.yaml": HEAD + "includes: [b.yaml]\n", "b.yaml": "includes: [a.yaml]\n"},
            "the includes form a cycle: a.yaml -> b.yaml -> a.yaml",
        ),
        ({"a.yaml": HEAD + "includes: [../x.yaml]\n"}, "'../x.yaml' is outside the repository"),
        ({"a.yaml": HEAD + "includes: [/etc/passwd]\n"}, "give the path relative to this file"),
        ({"a.yaml": HEAD + "includes: [none.yaml]\n"}, "none.yaml: cannot read"),
        (
            {
                "a.yaml": HEAD
                + "includes: [b.yaml]\ncustom_risk_categories:\n"
                + CATEGORY.format(id="Dup"),
                "b.yaml": "custom_risk_categories:\n" + CATEGORY.format(id="dup"),
            },
            "b.yaml:2: $.custom_risk_categories[0].id: the risk category id 'dup' is already",
        ),
        (
            {
                "a.yaml": HEAD
                + "includes: [b.yaml]\nrisk_tracking:\n  x@api: {status: mitigated}\n",
                "b.yaml": "risk_tracking:\n  x@api: {status: accepted}\n",
            },
            "tracked twice with different statuses",
        ),
        (
            {
                "a.yaml": HEAD
                + "custom_risk_categories:\n"
                + CATEGORY.format(id="c").replace(": api", ": nope")
            },
            "no technical asset has the id 'nope'",
        ),
        (
            {
                "a.yaml": HEAD
                + "custom_risk_categories:\n"
                + CATEGORY.format(id="c")
                + "risk_tracking:\n  c@*: {status: mitigated}\n  '*@api': {status: accepted}\n"
            },
            "Threagile would pick one at random",
        ),
    ],
)
def test_models_threagile_refuses_or_we_refuse(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    root = _model(tmp_path / "repo", files)
    with pytest.raises(InputError) as e:
        _read(root, "a.yaml")
    assert expected in str(e.value)


def test_an_include_may_not_leave_the_repository_by_a_symbolic_link(tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text("technical_assets: {}\n")
    root = _model(tmp_path / "repo", {"a.yaml": HEAD + "includes: [link.yaml]\n"})
    (root / "link.yaml").symlink_to(tmp_path / "outside.yaml")
    with pytest.raises(InputError, match="resolves outside the repository"):
        _read(root, "a.yaml")


def test_includes_are_not_followed_without_a_repository() -> None:
    with pytest.raises(InputError, match="includes can only be followed in a repository"):
        load("a.yaml", (HEAD + "includes: [b.yaml]\n").encode())
