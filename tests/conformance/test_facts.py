from __future__ import annotations

from pathlib import Path

import pytest
from evidence_factory import NOW, stmt, tailored
from helpers import git

from sdl_tracker.conformance import facts as facts_mod
from sdl_tracker.conformance.evaluate import evaluate
from sdl_tracker.conformance.evidence import Record
from sdl_tracker.conformance.model import Status


def commit(root: Path, path: str, text: str, message: str) -> str:
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(text)
    git(root, "add", path)
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


@pytest.fixture
def history(git_repo: Path) -> dict[str, str]:
    """A → B (src/a.py) → C (docs/x.md) on main; F on a branch from B."""
    root = git_repo
    a = git(root, "rev-parse", "HEAD")
    b = commit(root, "src/a.py", "print(1)\n", "code")
    git(root, "checkout", "-q", "-b", "feature")
    f = commit(root, "src/b.py", "print(2)\n", "feature work")
    git(root, "checkout", "-q", "main")
    c = commit(root, "docs/x.md", "# doc\n", "docs")
    return {"A": a, "B": b, "C": c, "F": f}


def records(h: dict[str, str]) -> list[Record]:
    statements = [
        stmt("sast", commit=h["A"], covers=("src",), metrics={"high": 0}),
        stmt("sast", commit=h["B"], covers=("src",), metrics={"high": 0}),
        stmt("sast", commit=h["F"], covers=("src",), metrics={"high": 0}),
        stmt("secret_scan", commit=h["A"], covers=(".",), metrics={"findings": 0}),
        stmt("training_record", commit=h["F"]),
    ]
    return [Record(seq=i, hash="", statement=s) for i, s in enumerate(statements, 1)]


@pytest.mark.parametrize("limit", [24, 0], ids=["merge-base", "rev-list"])
def test_gather_asks_git_for_ancestry_and_changed_paths(
    git_repo: Path, history: dict[str, str], monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    monkeypatch.setattr(facts_mod, "_MERGE_BASE_LIMIT", limit)
    found = facts_mod.gather(git_repo, history["C"], records(history))
    assert found.commit == history["C"]
    assert found.ancestors == {history["A"], history["B"]}
    # only the newest entry of each group in C's history needs a diff: sast on B, secrets on A
    assert found.changed == {
        history["B"]: ("docs/x.md",),
        history["A"]: ("docs/x.md", "src/a.py"),
    }


def test_gathered_facts_drive_staleness(
    git_repo: Path, history: dict[str, str], tmp_path: Path
) -> None:
    policy = tailored(tmp_path, "requirements:\n  SM-8:\n    requires: {kind: secret_scan}\n")
    recs = records(history)
    conf = evaluate(policy, recs, facts_mod.gather(git_repo, history["C"], recs), NOW)
    assert conf.result("SI-2").status is Status.PARTIAL  # sast counts; no coding standard
    si2 = {ref.seq: ref for ref in conf.result("SI-2").evidence}
    assert si2[2].counted and si2[1].why == "superseded by entry 2"
    assert "not in the history" in si2[3].why
    sm8 = conf.result("SM-8")
    assert sm8.status is Status.STALE
    assert "docs/x.md, src/a.py changed between" in sm8.reason
