from __future__ import annotations

from pathlib import Path

from evidence_factory import NOW, C, stmt, tailored

from sdl_tracker.conformance import waivers
from sdl_tracker.conformance.evaluate import evaluate
from sdl_tracker.conformance.facts import CommitFacts
from sdl_tracker.exporters import markdown
from sdl_tracker.exporters.base import Report


def test_summary_lists_unmet_requirements_maturity_and_waivers(tmp_path: Path) -> None:
    policy = tailored(tmp_path, "maturity: {targets: {SI: 3}}\n")
    entries = [
        stmt("sast", covers=("src",), metrics={"high": 1}, summary="1 high | in a.py"),
        waivers.statement(
            target="B602",
            reason="shell=True on a constant",
            approver="G <g@x.org>",
            requested_by="A <a@x.org>",
            expires=waivers.parse_expiry("2026-05-01"),
            commit=C,
            now=NOW,
        ),
    ]
    conf = evaluate(policy, entries, CommitFacts(C), NOW, "v3.1", gating=True)
    text = markdown.render(
        Report(
            conf,
            passed=False,
            regressions=(("SI-2", "satisfied at v3.0, now failing"),),
            baseline="v3.0",
        )
    )
    assert text.startswith("## sdl-tracker gate: ❌ failed — release v3.1")
    assert (
        "| SI-2 Secure coding standards | failing | document:coding_standard: no evidence; "
        "sast: entry 1 on cccccccccc, high = 1, expected high ≤ 0; linter_config: no evidence |"
        in text
    )
    assert "### Worse than at v3.0 (ratchet)" in text
    assert "- **SI-2**: satisfied at v3.0, now failing" in text
    assert "| SI Secure implementation | ML1 | ML3 |" in text
    assert "- `B602` **expired** until 2026-05-01: shell=True on a constant" in text
    assert "indicative" in text
    status = markdown.render(Report(conf))
    assert status.startswith("## sdl-tracker status: release v3.1")
