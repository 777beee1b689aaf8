from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker.cli.main import main
from sdl_tracker.exporters.release import gather
from sdl_tracker.workspace import open_workspace

NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def repo(git_repo: Path) -> Path:
    assert main(["init", "-C", str(git_repo), "--ledger-dir", str(git_repo.parent / "ledger")]) == 0
    report = git_repo.parent / "training.csv"
    report.write_text("name\nada\n")
    ledger = ["--ledger-dir", str(git_repo.parent / "ledger")]
    assert main(["record", "training_record", str(report), "-C", str(git_repo), *ledger]) == 0
    git(git_repo, "tag", "-a", "v2.0", "-m", "second release\n\nwith notes")
    assert main(["gate", "-C", str(git_repo), "--release", "v2.0", *ledger]) == 1
    assert main(["record", "training_record", str(report), "-C", str(git_repo), *ledger]) == 0
    return git_repo


def test_a_release_is_its_slice_judged_at_its_gate_verdict(repo: Path) -> None:
    ws = open_workspace(repo, ledger_dir=repo.parent / "ledger")
    source = gather(ws, release="v2.0", policy_file=None, now=NOW)
    assert [e.seq for e in source.entries] == [1, 2]  # entry 3 came after the verdict
    assert source.gate is not None and source.gate.seq == 2 and source.gate.differences == ()
    assert source.conformance.evaluated_at == source.gate.recorded_at != NOW
    assert set(source.objects) == {o for e in source.entries for o in e.objects}
    release = source.release
    assert release is not None
    assert release.tag == "v2.0" and release.commit == git(repo, "rev-parse", "v2.0^{commit}")
    assert (
        release.message == "initial commit" and release.author == "Ada Lovelace <ada@example.com>"
    )
    assert release.tagger == "Ada Lovelace <ada@example.com>"
    assert release.tag_message == "second release\n\nwith notes"
    assert release.committed_at == datetime(2024, 5, 1, 9, 30, tzinfo=timezone.utc)


def test_head_without_a_release_is_the_whole_ledger_now(repo: Path) -> None:
    ws = open_workspace(repo, ledger_dir=repo.parent / "ledger")
    source = gather(ws, release=None, policy_file=None, now=NOW)
    assert len(source.entries) == 3 and source.gate is None
    assert source.conformance.evaluated_at == NOW
    assert source.release is not None and source.release.tag is None and source.release.tagger == ""
