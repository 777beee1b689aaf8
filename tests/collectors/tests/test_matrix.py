from __future__ import annotations

from pathlib import Path

import pytest

from sdl_tracker.collectors.tests.matrix import ChainRow, build, ref_key
from sdl_tracker.formats.junit import Outcome, TestCase
from sdl_tracker.formats.threatmodel import load
from sdl_tracker.formats.threatmodel.requirements import read

DATA = Path(__file__).resolve().parents[2] / "data" / "threatmodel"

MODEL = load("threat-model.yaml", (DATA / "threat-model.yaml").read_bytes())
REQS = read(DATA, "security-requirements.yaml") or ()


def case(
    classname: str, name: str, outcome: Outcome = Outcome.PASSED, **links: tuple[str, ...]
) -> TestCase:
    return TestCase("junit.xml", 1, classname, name, outcome, **links)


@pytest.mark.parametrize(
    ("ref", "key"),
    [
        ("tests/test_a.py::test_b", "tests.test_a::test_b"),
        ("tests/test_a.py::TestB::test_c[x-1]", "tests.test_a.TestB::test_c[x-1]"),
        ("tests.test_a.TestB.test_c", "tests.test_a.TestB::test_c"),
        ("com.example.FooTest.bar[a.b]", "com.example.FooTest::bar[a.b]"),
        ("test_alone", "::test_alone"),
    ],
)
def test_reference_keys(ref: str, key: str) -> None:
    assert ref_key(ref) == key


def test_chain_from_threat_to_result() -> None:
    cases = [
        case("tests.test_agent", "test_rejects_unsigned_image[rsa]"),
        case("tests.test_agent", "test_rejects_unsigned_image[ecdsa]", Outcome.FAILED),
        case("tests.test_other", "test_marked", requirements=("SR-1.2",), threats=("T-003",)),
    ]
    m = build(cases, REQS, [MODEL])
    # SR-3.1 via mitigation M-001 (both parametrised cases), SR-1.2 via the property.
    assert [(r.id, r.tests) for r in m.requirements] == [
        ("SR-1.2", (("tests.test_other::test_marked", "passed"),)),
        (
            "SR-3.1",
            (
                ("tests.test_agent::test_rejects_unsigned_image[rsa]", "passed"),
                ("tests.test_agent::test_rejects_unsigned_image[ecdsa]", "failed"),
            ),
        ),
    ]
    start = ("threat-model.yaml",)
    assert m.chains == (
        ChainRow(
            *start,
            "T-001",
            "mitigated",
            "M-001",
            ("SR-3.1",),
            "tests.test_agent::test_rejects_unsigned_image[rsa]",
            "passed",
        ),
        ChainRow(
            *start,
            "T-001",
            "mitigated",
            "M-001",
            ("SR-3.1",),
            "tests.test_agent::test_rejects_unsigned_image[ecdsa]",
            "failed",
        ),
        ChainRow(
            *start,
            "T-002",
            "mitigated",
            "M-002",
            ("SR-1.2",),
            "tests/test_agent.py::test_rejects_unknown_server",
            "not run",
        ),
        ChainRow(*start, "T-003", "accepted", "", (), "tests.test_other::test_marked", "passed"),
    )
    assert m.missing_tests == (
        ("threat-model.yaml:M-002", "tests/test_agent.py::test_rejects_unknown_server"),
    )
    assert m.untested() == ()
    assert m.threats_verified() == 1  # only T-003: T-001 has a failure, T-002 did not run
    assert m.failed_links() == ("tests.test_agent::test_rejects_unsigned_image[ecdsa]",)
    assert m.to_json()["chains"][2]["result"] == "not run"


def test_unknown_references_and_untested_requirements() -> None:
    cases = [case("t", "a", requirements=("SR-9", "SR-9")), case("t", "b", threats=("T-404",))]
    m = build(cases, REQS, [MODEL])
    assert m.untested() == ("SR-1.2", "SR-3.1")
    assert m.unknown_requirement_refs == (("t::a", "SR-9"),)
    assert m.unknown_threat_refs == (("t::b", "T-404"),)
    assert build(cases, REQS, []).unknown_threat_refs == ()  # no model: nothing to check against
    # A threat without any mitigation or test still appears, with "no test".
    bare = build([], REQS, [MODEL]).chains
    assert bare[-1] == ChainRow("threat-model.yaml", "T-003", "accepted", "", (), "", "no test")


def test_a_test_linked_by_mitigation_and_marker_appears_once() -> None:
    linked = case("tests.test_agent", "test_rejects_unsigned_image", threats=("T-001",))
    rows = [c for c in build([linked], REQS, [MODEL]).chains if c.threat == "T-001"]
    assert [(r.mitigation, r.test) for r in rows] == [
        ("M-001", "tests.test_agent::test_rejects_unsigned_image")
    ]
