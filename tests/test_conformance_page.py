"""docs/conformance.md's requirement table is generated from this repository's policy and the
catalogue (scripts/conformance_page.py): it fails, saying what to run, when it is out of date."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "conformance_page", ROOT / "scripts" / "conformance_page.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_the_conformance_page_is_generated_from_our_policy() -> None:
    from sdl_tracker.policy import load

    script = _script()
    policy = load.load(script.POLICY)
    text = script.PAGE.read_text(encoding="utf-8")
    assert script.render(text, policy) == text, (
        "docs/conformance.md's requirement table is out of date: run "
        "`python scripts/conformance_page.py`"
    )
    rows = [line for line in script.table(policy).splitlines() if line.startswith("| ")][1:]
    assert [row.split("|")[1].split()[0] for row in rows] == list(policy.catalog.ids())
    by_id = {row.split("|")[1].split()[0]: row.split("|") for row in rows}
    # our tailoring is shown with its justification, and only where we tailored
    assert by_id["SM-10"][3].strip().startswith("not applicable: No third party develops")
    assert by_id["SI-2"][3].strip() == ""
    assert "training_record: signed" in by_id["SM-4"][4]
    assert "`sdl-tracker collect --only sast`" in by_id["SVV-3"][5]


def test_a_stale_table_is_caught(tmp_path: Path) -> None:
    from sdl_tracker.policy import load

    script = _script()
    policy = load.load(script.POLICY)
    text = script.PAGE.read_text(encoding="utf-8")
    stale = text.replace("| SM-4 Security expertise |", "| SM-4 Security expertise (edited) |")
    assert stale != text and script.render(stale, policy) == text
    unmarked = text.replace(script.BEGIN, "")
    try:
        script.render(unmarked, policy)
    except SystemExit as e:
        assert "markers" in str(e)
    else:
        raise AssertionError("a page without its markers was accepted")
