from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from evidence_factory import NOW, C, approve_all, stmt, tailored

from sdl_tracker.conformance import waivers
from sdl_tracker.conformance.evaluate import evaluate
from sdl_tracker.conformance.facts import CommitFacts
from sdl_tracker.conformance.signatures import Signer
from sdl_tracker.exporters import EXPORTERS, junit
from sdl_tracker.exporters.base import Report

SCHEMA = Path(__file__).resolve().parents[2].parent / "shared" / "schemas" / "JUnit.xsd"


def conformance(tmp_path: Path):  # type: ignore[no-untyped-def]
    policy = tailored(tmp_path, 'not_applicable:\n  SM-10: no suppliers <none> & "quotes"\n')
    entries = [
        stmt("pentest_report"),
        stmt("sast", covers=("src",), metrics={"high": 2}, summary="2 high | 1 <medium>"),
        waivers.statement(
            target="SVV-3",
            reason="mirror down",
            approver="G <g@example.com>",
            requested_by="A <a@example.com>",
            expires=waivers.parse_expiry("2026-07-01"),
            commit=C,
            now=NOW,
        ),
    ]
    # the pentest report (entry 1) counts as a signed attestation, as SVV-4 wants
    return evaluate(
        policy,
        entries,
        CommitFacts(C),
        NOW,
        "v2.0",
        gating=True,
        signers={1: (Signer("Tess <tess@example.com>", ("independent-tester",)),)},
        approvals=approve_all(entries),
    )


def test_one_testcase_per_requirement_valid_against_the_schema(tmp_path: Path) -> None:
    conf = conformance(tmp_path)
    text = junit.render(
        Report(
            conf, passed=False, regressions=(("SVV-4", "satisfied at v1, now x"),), baseline="v1"
        )
    )
    if not SCHEMA.is_file():
        pytest.skip(f"{SCHEMA} absent")
    xmlschema = pytest.importorskip("xmlschema")
    xmlschema.XMLSchema(str(SCHEMA)).validate(text)
    suite = ET.fromstring(text)
    cases = {c.get("name").split()[0]: c for c in suite.findall("testcase")}  # type: ignore[union-attr]
    assert len(cases) == 47
    assert cases["SM-10"].find("skipped").get("message").startswith("not applicable: no suppliers")  # type: ignore[union-attr]
    assert cases["SM-10"].find("skipped").text.startswith("no suppliers")  # type: ignore[union-attr]
    failure = cases["SI-2"].find("failure")
    assert failure is not None and failure.get("type") == "failing"
    assert "high = 2, expected high ≤ 0" in failure.text  # type: ignore[operator]
    assert "fix what sast evidence found (`sdl-tracker ledger show 2`)" in failure.text  # type: ignore[operator]
    assert "\nnext: write docs/coding-standard.md" in failure.text  # type: ignore[operator]
    assert cases["SVV-4"].find("failure").get("type") == "ratchet"  # type: ignore[union-attr]
    assert cases["SVV-3"].find("failure") is None  # waived passes
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["release"] == "v2.0" and props["passed"] == "false"
    assert props["waiver.3.SVV-3"].startswith("active until 2026-07-01T23:59:59Z; approved by G")
    assert props["maturity.SVV"] == "ML1"
    assert int(suite.get("failures")) == sum(  # type: ignore[arg-type]
        1 for c in cases.values() if c.find("failure") is not None
    )


def test_registry() -> None:
    assert EXPORTERS["junit"] is junit
    assert EXPORTERS["markdown"].NAME == "markdown"
