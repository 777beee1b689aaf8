from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker import ledger
from sdl_tracker.cli.commands import install_hooks
from sdl_tracker.cli.main import main
from sdl_tracker.workspace import open_workspace

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
FOREIGN = "#!/bin/sh\necho 'lint first'\n"


def _hooks(root: Path) -> Path:
    return Path(git(root, "rev-parse", "--absolute-git-dir")) / "hooks"


def test_installs_the_four_hooks_executable(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["install-hooks", "-C", str(git_repo)]) == 0
    for name in install_hooks.HOOKS:
        hook = _hooks(git_repo) / name
        assert hook.read_bytes() == (REPO / "hooks" / name).read_bytes()
        assert os.access(hook, os.X_OK)
    capsys.readouterr()
    assert main(["install-hooks", "-C", str(git_repo)]) == 0
    assert capsys.readouterr().err.count("already installed") == 4


def test_a_foreign_hook_is_refused_then_replaced_with_a_backup(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hooks = _hooks(git_repo)
    hooks.mkdir(exist_ok=True)
    (hooks / "pre-commit").write_text(FOREIGN)
    assert main(["install-hooks", "-C", str(git_repo)]) == 1
    assert "is another tool's hook; left alone (use --force" in capsys.readouterr().err
    assert (hooks / "pre-commit").read_text() == FOREIGN
    assert (hooks / "commit-msg").is_file()  # the others were installed
    assert main(["install-hooks", "--force", "-C", str(git_repo)]) == 0
    assert (hooks / "pre-commit.sdl-tracker-backup").read_text() == FOREIGN
    assert b"Installed by sdl-tracker install-hooks" in (hooks / "pre-commit").read_bytes()
    # a second foreign hook later does not overwrite the first backup
    (hooks / "pre-commit").write_text(FOREIGN + "# v2\n")
    assert main(["install-hooks", "--force", "-C", str(git_repo)]) == 0
    assert (hooks / "pre-commit.sdl-tracker-backup").read_text() == FOREIGN
    assert (hooks / "pre-commit.sdl-tracker-backup.1").read_text() == FOREIGN + "# v2\n"


def test_core_hooks_path_is_honoured(git_repo: Path) -> None:
    git(git_repo, "config", "core.hooksPath", ".githooks")
    assert main(["install-hooks", "-C", str(git_repo)]) == 0
    assert (git_repo / ".githooks" / "pre-push").is_file()


def test_the_build_ships_the_hook_scripts(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    for name in install_hooks.HOOKS:
        shipped = tmp_path / "sdl_tracker" / "hook_scripts" / name
        assert shipped.read_bytes() == (REPO / "hooks" / name).read_bytes()


def _commit(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        ["git", "commit", *args], cwd=root, env=env, capture_output=True, text=True
    )


def _hook_runs(root: Path) -> list[tuple[str | None, str]]:
    return [
        (e.statement().commit, e.statement().predicate.result.status.value)
        for e in ledger.entries(open_workspace(root).store())
        if e.statement().predicate.kind == "hook_run"
    ]


def test_the_plain_hooks_run_in_a_real_commit(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = [n for n in ("sdl-secrets", "sdl-record") if not shutil.which(n, path=str(BIN))]
    assert not missing, f"{missing} not in {BIN}: reinstall sdl-tracker (pip install -e .)"
    assert main(["init", "-C", str(git_repo)]) == 0
    assert main(["install-hooks", "-C", str(git_repo)]) == 0
    before = git(git_repo, "rev-parse", "HEAD")

    (git_repo / "settings.ini").write_text(f"[aws]\nkey = {AWS_KEY}\n")
    git(git_repo, "add", "settings.ini")
    refused = _commit(git_repo, "-m", "Add the settings")
    assert refused.returncode != 0
    assert "settings.ini:2: AWS Access Key" in refused.stdout + refused.stderr
    assert AWS_KEY not in refused.stdout + refused.stderr
    assert git(git_repo, "rev-parse", "HEAD") == before

    bypassed = _commit(git_repo, "--no-verify", "-m", "Add the settings anyway")
    assert bypassed.returncode == 0, bypassed.stderr
    head = git(git_repo, "rev-parse", "HEAD")
    assert "hooks were bypassed" in bypassed.stdout + bypassed.stderr
    assert _hook_runs(git_repo) == [(head, "fail")]

    (git_repo / "notes.md").write_text("# notes\n")
    git(git_repo, "add", "notes.md")
    checked = _commit(git_repo, "-m", "Add notes\n\nSigned-off-by: Ada Lovelace <ada@example.com>")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert _hook_runs(git_repo)[-1] == (git(git_repo, "rev-parse", "HEAD"), "pass")
