from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from evidence_factory import policy_file, tailored

from sdl_tracker.errors import PolicyError
from sdl_tracker.policy import catalog as catalog_mod
from sdl_tracker.policy import load as policy_mod
from sdl_tracker.policy.model import AllOf, AnyOf, Bound, Expect, Leaf, describe, leaves

REPO = Path(__file__).resolve().parents[2]


def test_default_policy_covers_every_requirement_with_catalogue_kinds() -> None:
    policy = policy_mod.load("iec62443-4-1")
    cat = catalog_mod.load()
    assert [r.id for r in policy.requirements] == list(cat.ids())
    assert len(policy.requirements) == 47
    for r in policy.requirements:
        assert r.expects, r.id
        for leaf in leaves(r.rule):
            assert leaf.kind in cat.evidence_kinds, (r.id, leaf.kind)
        assert all(k in cat.evidence_kinds for k in r.process)
        assert r.not_applicable is None


@pytest.mark.parametrize(
    ("rid", "kinds"),
    [
        ("SM-4", {"training_record"}),
        ("SVV-4", {"pentest_report"}),
        ("SM-10", {"contract_record", "supplier_assessment"}),
    ],
)
def test_attestation_only_requirements_need_recorded_attestations(
    rid: str, kinds: set[str]
) -> None:
    r = policy_mod.load("iec62443-4-1").requirement(rid)
    assert r.expects == (Expect.ATTESTATION,)
    assert {leaf.kind for leaf in leaves(r.rule)} == kinds


def test_default_thresholds_are_the_documented_ones() -> None:
    policy = policy_mod.load("iec62443-4-1")
    si2 = {leaf.kind: leaf for leaf in leaves(policy.requirement("SI-2").rule)}
    assert si2["sast"].thresholds == (Bound("high", maximum=0),)
    si1 = {leaf.kind: leaf for leaf in leaves(policy.requirement("SI-1").rule)}
    assert si1["review_record"].thresholds == (
        Bound("independently_reviewed/commits", minimum=0.95),
    )
    sm9 = {leaf.kind: leaf for leaf in leaves(policy.requirement("SM-9").rule)}
    assert sm9["dependency_audit"].thresholds == (Bound("vulnerabilities", maximum=0),)


def test_project_policy_tailors_the_default(tmp_path: Path) -> None:
    policy = tailored(
        tmp_path,
        """\
policy: acme-plc
critical_paths: [src/auth/, ./src/crypto]
max_age_days: 180
maturity:
  releases: 2
  targets: {SM: 2, SVV: 3}
not_applicable:
  SM-10: No third party develops custom components for this product.
  SM-3: >-
    Single product; the whole repository is in scope.
thresholds:
  SI-2:
    sast: {medium: {max: 5}, high: {max: 1}}
requirements:
  SVV-4:
    max_age_days: 400
  SG-7:
    requires: {all_of: [document:user_manual, {kind: review_record, named: true}]}
""",
    )
    assert policy.name == "acme-plc"
    assert policy.critical_paths == ("src/auth", "src/crypto")
    assert policy.maturity.releases == 2
    assert policy.maturity.target("SVV") == 3
    assert policy.maturity.target("SG") is None
    assert policy.requirement("SM-10").not_applicable.startswith("No third party")
    assert policy.requirement("SM-3").not_applicable == (
        "Single product; the whole repository is in scope."
    )
    sast = next(leaf for leaf in leaves(policy.requirement("SI-2").rule) if leaf.kind == "sast")
    assert set(sast.thresholds) == {Bound("high", maximum=1), Bound("medium", maximum=5)}
    assert sast.max_age_days == 30  # kept from the default
    # thresholds elsewhere are untouched
    svv3 = [leaf for leaf in leaves(policy.requirement("SVV-3").rule) if leaf.kind == "sast"]
    assert svv3[0].thresholds == (Bound("high", maximum=0),)
    assert policy.requirement("SVV-4").max_age_days == 400
    assert policy.requirement("SM-1").max_age_days == 180
    assert policy.requirement("SG-7").rule == AllOf(
        (Leaf("document:user_manual"), Leaf("review_record", named=True))
    )
    assert len(policy.sources) == 2


def test_extends_a_file_relative_to_the_policy(tmp_path: Path) -> None:
    (tmp_path / "org").mkdir()
    policy_file(tmp_path / "org", "extends: iec62443-4-1\npolicy: org\nmaturity: {releases: 5}\n")
    path = policy_file(
        tmp_path, "extends: org/policy.yaml\nnot_applicable: {SM-5: tiny}\n", "p.yaml"
    )
    policy = policy_mod.load(path)
    assert policy.name == "org"
    assert policy.maturity.releases == 5
    assert policy.requirement("SM-5").not_applicable == "tiny"


def test_digest_follows_the_resolved_policy(tmp_path: Path) -> None:
    default = policy_mod.load("iec62443-4-1")
    assert default.digest == policy_mod.load("iec62443-4-1").digest
    assert re.fullmatch(r"[0-9a-f]{64}", default.digest)
    changed = tailored(tmp_path, "thresholds: {SI-2: {sast: {high: {max: 3}}}}\n")
    assert changed.digest != default.digest


def test_rules_read_as_words() -> None:
    rule = AllOf((Leaf("sast", (Bound("high", maximum=0),), 30), AnyOf((Leaf("a"), Leaf("b")))))
    assert describe(rule) == "all of: sast (high ≤ 0, ≤ 30 days old), [any of: a, b]"


def test_resolve_prefers_explicit_then_configured(tmp_path: Path) -> None:
    configured = policy_file(tmp_path, "extends: iec62443-4-1\npolicy: configured\n", "c.yaml")
    explicit = policy_file(tmp_path, "extends: iec62443-4-1\npolicy: explicit\n", "e.yaml")
    assert policy_mod.resolve(explicit, configured).name == "explicit"
    assert policy_mod.resolve(None, configured).name == "configured"
    assert policy_mod.resolve(None, None).name == "iec62443-4-1"
    assert policy_mod.resolve(Path("iec62443-4-1"), None).name == "iec62443-4-1"  # --policy NAME


# Every kind of mistake: (policy text, line of the error, words the message must contain).
MISTAKES = [
    (
        "extends: iec62443-4-1\nrequirements:\n  SX-9:\n    requires: sast\n",
        3,
        "unknown requirement 'SX-9'",
    ),
    (
        "extends: iec62443-4-1\nrequirements:\n  SI-2:\n    requires: sats\n",
        4,
        "unknown evidence kind 'sats'; did you mean sast",
    ),
    (
        "extends: iec62443-4-1\nrequirements:\n  SI-2:\n    requires:\n      all_of: []\n",
        5,
        "all_of is empty",
    ),
    (
        "extends: iec62443-4-1\nrequirements:\n  SI-2:\n    requires:\n      any_of: []\n",
        5,
        "any_of is empty",
    ),
    ("extends: iec62443-4-1\nnot_applicable:\n  SM-3:\n", 3, "missing justification"),
    ("extends: iec62443-4-1\nnot_applicable:\n  SM-3: '  '\n", 3, "missing justification"),
    ('extends: iec62443-4-1\nnot_applicable:\n  SM-3: "\\u200b"\n', 3, "invisible characters"),
    ('extends: iec62443-4-1\nnot_applicable:\n  SM-3: "\\u2060 . \\u00a0"\n', 3, "missing"),
    ("extends: iec62443-4-1\napprovals: {waiver_max_days: 0}\n", 2, "waiver_max_days"),
    # a mapping names parts of the rule by their evidence kinds
    (
        "extends: iec62443-4-1\nnot_applicable:\n  SM-3: {why: x}\n",
        3,
        "unknown evidence kind 'why'",
    ),
    ("extends: iec62443-4-1\nnot_applicable:\n  SM-3: [x]\n", 3, "must be text"),
    ("extends: iec62443-4-1\nnot_applicable:\n  SM-99: nope\n", 3, "unknown requirement 'SM-99'"),
    ("extends: iec62443-4-1\nthreshold: {}\n", 2, "unknown key 'threshold'"),
    (
        "extends: iec62443-4-1\nrequirements:\n  SI-2:\n    requires: {kind: sast, max_age: 3}\n",
        4,
        "unknown key 'max_age'",
    ),
    (
        "extends: iec62443-4-1\nrequirements:\n  SI-2:\n    requires: {knid: sast}\n",
        4,
        "unknown key 'knid'",
    ),
    (
        "extends: iec62443-4-1\nrequirements:\n  SI-2:\n    requires: {named: true}\n",
        4,
        "expected an evidence kind",
    ),
    (
        "extends: iec62443-4-1\nrequirements:\n  SI-2:\n    requires:\n      all_of: [sast]\n"
        "      kind: sast\n",
        5,
        "all_of must be the only key",
    ),
    (
        "extends: iec62443-4-1\nthresholds:\n  SI-2:\n    sast:\n      high: {}\n",
        5,
        "give min, max or both",
    ),
    (
        "extends: iec62443-4-1\nthresholds:\n  SI-2:\n    sast:\n      high: {min: 3, max: 1}\n",
        5,
        "min 3 is above max 1",
    ),
    (
        "extends: iec62443-4-1\nthresholds:\n  SI-2:\n    sast:\n      High: {max: 1}\n",
        5,
        "not a metric name",
    ),
    (
        "extends: iec62443-4-1\nthresholds:\n  SI-2:\n    sast:\n      high: {max: lots}\n",
        5,
        "must be a number",
    ),
    (
        "extends: iec62443-4-1\nthresholds:\n  SI-2:\n    dependency_audit:\n"
        "      vulnerabilities: {max: 0}\n",
        4,
        "has no dependency_audit evidence",
    ),
    (
        "extends: iec62443-4-1\nthresholds:\n  SI-2:\n    sats: {high: {max: 0}}\n",
        4,
        "unknown evidence kind 'sats'",
    ),
    (
        "extends: iec62443-4-1\nrequirements:\n  SI-2:\n    max_age_days: 0\n",
        4,
        "must be at least 1",
    ),
    (
        "extends: iec62443-4-1\nrequirements:\n  SI-2:\n    max_age_days: '30'\n",
        4,
        "must be a whole number",
    ),
    (
        "extends: iec62443-4-1\nrequirements:\n  SI-2:\n"
        "    requires: {kind: sast, named: yes please}\n",
        4,
        "must be true or false",
    ),
    (
        "extends: iec62443-4-1\nrequirements:\n  SI-2:\n    expects: [proces]\n",
        4,
        "unknown value 'proces'",
    ),
    (
        "extends: iec62443-4-1\nrequirements:\n  SI-2:\n    title: Penetration testing\n",
        4,
        "the catalogue calls SI-2 'Secure coding standards'",
    ),
    ("extends: iec62443-4-1\nmaturity:\n  targets: {XX: 2}\n", 3, "unknown practice 'XX'"),
    ("extends: iec62443-4-1\nmaturity:\n  targets: {SM: 5}\n", 3, "must be 1 to 4"),
    ("extends: iec62443-4-1\nmaturity:\n  roles: [roles]\n", 3, "unknown evidence kind 'roles'"),
    ("extends: iec62443-4-1\nnot_applicable:\n  SM-3: a\n  SM-3: b\n", 4, "duplicate key 'SM-3'"),
    ("extends: iec62443-4-1\nrequirements:\n  SI-2:\n    requires: [sast\n", 5, "invalid YAML"),
    (
        "extends: iec62443-4-1\ncatalog: iec62443-4-1:2099\n",
        2,
        "differs from the policy it extends",
    ),
    ("policy: mine\ncatalog: iec62443-4-1:2099\n", 2, "unknown catalogue"),
    ("extends: missing-base.yaml\n", 1, "cannot read the policy"),
    ("- just\n- a list\n", 1, "not a policy: expected a YAML mapping"),
    ("", 1, "empty"),
    (
        "policy: lonely\nrequirements:\n  SI-2:\n    expects: [execution]\n    requires: sast\n",
        2,
        "has no `requires`",
    ),
    ("policy: lonely\nrequirements:\n  SM-1:\n    requires: process_doc\n", 2, "has no `expects`"),
]


@pytest.mark.parametrize(("text", "line", "words"), MISTAKES)
def test_every_mistake_names_the_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = policy_file(tmp_path, text)
    with pytest.raises(PolicyError) as caught:
        policy_mod.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert words in message


def test_extends_loop_is_an_error(tmp_path: Path) -> None:
    policy_file(tmp_path, "extends: b.yaml\n", "a.yaml")
    policy_file(tmp_path, "extends: a.yaml\n", "b.yaml")
    with pytest.raises(PolicyError, match="loops back"):
        policy_mod.load(tmp_path / "a.yaml")


def test_missing_policy_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read the policy"):
        policy_mod.load(tmp_path / "nope.yaml")


def test_build_ships_the_default_policy_inside_the_package(tmp_path: Path) -> None:
    """The wheel's build step (setup.py build_py) copies policies/*.yaml into the package."""
    proc = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    shipped = tmp_path / "sdl_tracker" / "policy" / "policies" / "iec62443-4-1.yaml"
    assert shipped.read_bytes() == (REPO / "policies" / "iec62443-4-1.yaml").read_bytes()
    assert (tmp_path / "sdl_tracker" / "policy" / "catalogs" / "iec62443-4-1-2018.yaml").is_file()
