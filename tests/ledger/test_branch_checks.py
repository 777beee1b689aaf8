"""The ledger branch is never a working branch, whatever git's refs make of its name.

`check_branch` refuses a branch checked out in a work tree; these tests pin the ways around that
check found later: a ledger ref that is a symbolic ref to the checked-out branch (update-ref
wrote every ledger commit onto it), a name that is the checked-out branch's but for case when
the repository ignores case (one loose ref file for both), and a `git worktree list` that fails
(read as "checked out nowhere"). Real repositories, real git; the unit tests first (they are
the mutation selection for `check_branch`, docs/testing.md), then the commands a user runs.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.errors import GitError, LedgerError
from sdl_tracker.ledger.gitstore import GitStore, check_branch
from sdl_tracker.models import Statement


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, check=True, text=True
    ).stdout.strip()


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out + err


def _symref_message(branch: str, target: str) -> str:
    return (
        f"the ledger branch {branch!r} is a symbolic ref to {target}: every ledger commit "
        f"would be written onto {target}. Delete the symbolic ref (`git symbolic-ref --delete "
        f"refs/heads/{branch}`; {target} is left as it is) and run `sdl-tracker init` again "
        "to create the ledger branch, or name another branch for the ledger (`[ledger] "
        "branch` / `init --branch NAME`)"
    )


# --- a symbolic ref --------------------------------------------------------------------------


def test_a_ledger_ref_that_is_a_symbolic_ref_is_refused_and_nothing_is_written_through_it(
    git_repo: Path, make_statement: Callable[..., Statement]
) -> None:
    main_tip = git(git_repo, "rev-parse", "main")
    git(git_repo, "symbolic-ref", "refs/heads/sdl-ledger", "refs/heads/main")
    with pytest.raises(LedgerError) as caught:
        check_branch(git_repo, "sdl-ledger")
    assert str(caught.value) == _symref_message("sdl-ledger", "refs/heads/main")
    for act in (
        lambda: GitStore(git_repo).create(),
        lambda: GitStore(git_repo).snapshot(),
        lambda: ledger.append(GitStore(git_repo), [make_statement(1)]),
    ):
        with pytest.raises(LedgerError, match="is a symbolic ref to refs/heads/main"):
            act()
    assert git(git_repo, "rev-parse", "main") == main_tip
    assert git(git_repo, "symbolic-ref", "refs/heads/sdl-ledger") == "refs/heads/main"
    # The advised fix: delete the symbolic ref (main stays), then the ledger is created.
    git(git_repo, "symbolic-ref", "--delete", "refs/heads/sdl-ledger")
    assert git(git_repo, "rev-parse", "main") == main_tip
    assert GitStore(git_repo).create()
    ledger.append(GitStore(git_repo), [make_statement(1)])
    assert git(git_repo, "rev-parse", "main") == main_tip
    assert git(git_repo, "rev-list", "--count", "sdl-ledger") == "2"


def test_any_symbolic_ref_is_refused_even_to_a_branch_not_checked_out_or_missing(
    git_repo: Path,
) -> None:
    git(git_repo, "branch", "side")
    for target in ("refs/heads/side", "refs/heads/nowhere"):
        git(git_repo, "symbolic-ref", "refs/heads/alias", target)
        with pytest.raises(LedgerError) as caught:
            check_branch(git_repo, "alias")
        assert str(caught.value) == _symref_message("alias", target)
    # A symbolic ref elsewhere in refs/heads is not the ledger's business.
    check_branch(git_repo, "side")
    check_branch(git_repo, "sdl-ledger")


def test_a_checked_out_branch_that_is_a_symbolic_ref_to_the_ledger_is_refused(
    git_repo: Path,
) -> None:
    # HEAD -> refs/heads/work -> refs/heads/sdl-ledger: a commit in the work tree lands on the
    # ledger. `git worktree list` reports the branch HEAD resolves to.
    git(git_repo, "branch", "sdl-ledger")
    git(git_repo, "symbolic-ref", "refs/heads/work", "refs/heads/sdl-ledger")
    git(git_repo, "symbolic-ref", "HEAD", "refs/heads/work")
    with pytest.raises(LedgerError, match="'sdl-ledger' is checked out in the work tree"):
        check_branch(git_repo, "sdl-ledger")


def test_the_compare_and_swap_moves_the_ledger_ref_itself_never_a_branch_it_names(
    git_repo: Path, make_statement: Callable[..., Statement]
) -> None:
    store = GitStore(git_repo)
    assert store.create()
    ledger.append(store, [make_statement(1)])  # the branch check is done (once per store)
    tip = git(git_repo, "rev-parse", "sdl-ledger")
    # Made a symbolic ref after the check, to a branch at the same commit (the head matches).
    git(git_repo, "branch", "side", tip)
    git(git_repo, "symbolic-ref", "refs/heads/sdl-ledger", "refs/heads/side")
    ledger.append(store, [make_statement(2)])
    assert git(git_repo, "rev-parse", "side") == tip  # not written through
    assert (
        subprocess.run(
            ["git", "symbolic-ref", "-q", "refs/heads/sdl-ledger"], cwd=git_repo
        ).returncode
        == 1
    )
    assert git(git_repo, "rev-parse", "sdl-ledger") == store.written
    assert git(git_repo, "rev-parse", "sdl-ledger~1") == tip


# --- case ------------------------------------------------------------------------------------


def test_with_core_ignorecase_a_name_equal_but_for_case_to_a_checked_out_branch_is_refused(
    git_repo: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    git(git_repo, "worktree", "add", "-q", str(other), "-b", "Feature")
    for value in ("", "false"):  # case-sensitive refs: other branches, accepted
        if value:
            git(git_repo, "config", "core.ignorecase", value)
        for name in ("MAIN", "Main", "feature", "FEATURE"):
            check_branch(git_repo, name)
    for value in ("true", "yes"):
        git(git_repo, "config", "core.ignorecase", value)
        for name, checked, where in (
            ("MAIN", "main", git_repo),
            ("Main", "main", git_repo),
            ("feature", "Feature", other),
        ):
            with pytest.raises(LedgerError) as caught:
                check_branch(git_repo, name)
            assert str(caught.value) == (
                f"the ledger branch {name!r} differs only in case from the branch {checked!r} "
                f"checked out in the work tree {where}, and this repository ignores case "
                "(core.ignorecase): both names are one ref, so the ledger would be a working "
                "branch. Keep the ledger on a branch of its own: `[ledger] branch` / `init "
                "--branch NAME` (default sdl-ledger)"
            )
        check_branch(git_repo, "sdl-ledger")  # no other name is refused
        check_branch(git_repo, "mains")


# --- git failing -----------------------------------------------------------------------------


def test_a_failing_git_worktree_list_is_an_error_never_checked_out_nowhere(
    tmp_path: Path, git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError) as caught:
        check_branch(plain, "main")
    assert str(caught.value).startswith(
        "cannot tell whether the ledger branch 'main' is checked out: git worktree list "
        "failed: fatal: not a git repository"
    )
    # GIT_DIR naming no repository: git fails for the real repository too.
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "gone"))
    with pytest.raises(GitError, match="git worktree list failed: fatal: not a git repository"):
        check_branch(git_repo, "sdl-ledger")


def test_a_failing_git_symbolic_ref_is_an_error(git_repo: Path) -> None:
    with pytest.raises(GitError) as caught:
        check_branch(git_repo, "a..b")  # not a ref name: git symbolic-ref exits 128
    assert str(caught.value) == (
        "cannot tell whether the ledger branch 'a..b' is a symbolic ref: git symbolic-ref "
        "failed: fatal: No such ref: refs/heads/a..b"
    )


def test_an_unreadable_core_ignorecase_fails_the_check_closed(git_repo: Path) -> None:
    # git reads core.ignorecase as it starts: every git command fails, the check with it.
    git(git_repo, "config", "core.ignorecase", "maybe")
    for name in ("sdl-ledger", "MAIN"):
        with pytest.raises(GitError) as caught:
            check_branch(git_repo, name)
        assert str(caught.value) == (
            f"cannot tell whether the ledger branch {name!r} is checked out: git worktree list "
            "failed: fatal: bad boolean config value 'maybe' for 'core.ignorecase'"
        )


# --- names that are not UTF-8 ------------------------------------------------------------------
# A ref name or a path may hold any byte but a few; one arriving on the command line is a str
# with its undecodable bytes as surrogates (os.fsdecode), and git echoes it back as bytes.

CAFE = b"caf\xe9"  # Latin-1, not UTF-8


def gitb(root: Path, *args: bytes) -> None:
    subprocess.run([b"git", *args], cwd=root, capture_output=True, check=True)


def test_a_branch_named_with_a_byte_that_is_not_utf8_is_found_checked_out(
    git_repo: Path, tmp_path: Path
) -> None:
    gitb(git_repo, b"branch", CAFE)
    other = tmp_path / os.fsdecode(b"wt\xff")
    gitb(git_repo, b"worktree", b"add", b"-q", os.fsencode(other), CAFE)
    with pytest.raises(LedgerError) as caught:
        check_branch(git_repo, os.fsdecode(CAFE))
    assert str(caught.value).startswith(
        f"the ledger branch {os.fsdecode(CAFE)!r} is checked out in the work tree {other}: "
    )
    # A symbolic ref to it names it as git wrote it.
    gitb(git_repo, b"symbolic-ref", b"refs/heads/alias", b"refs/heads/" + CAFE)
    with pytest.raises(LedgerError) as caught:
        check_branch(git_repo, "alias")
    assert str(caught.value) == _symref_message("alias", "refs/heads/" + os.fsdecode(CAFE))


def test_git_errors_naming_bytes_that_are_not_utf8_are_reported_with_them_replaced(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(GitError) as caught:
        check_branch(git_repo, os.fsdecode(b"a..\xff"))
    assert str(caught.value).endswith(
        "git symbolic-ref failed: fatal: No such ref: refs/heads/a..\ufffd"
    )
    monkeypatch.setenv("GIT_DIR", os.fsdecode(os.fsencode(tmp_path) + b"/gone\xff"))
    with pytest.raises(GitError) as caught:
        check_branch(git_repo, "sdl-ledger")
    assert str(caught.value).endswith(f"not a git repository: '{tmp_path}/gone\ufffd'")


def test_a_failed_swap_naming_bytes_that_are_not_utf8_is_reported_with_them_replaced(
    git_repo: Path, tmp_path: Path, make_statement: Callable[..., Statement]
) -> None:
    root = tmp_path / os.fsdecode(b"repo\xff")
    git_repo.rename(root)
    store = GitStore(root)
    assert store.create()
    # What a git process killed in the middle of `update-ref` leaves behind.
    lock = root / ".git" / "refs" / "heads" / "sdl-ledger.lock"
    lock.write_text("")
    with pytest.raises(GitError) as caught:
        ledger.append(store, [make_statement(1)])
    assert f"Unable to create '{tmp_path}/repo\ufffd/.git/refs/heads/sdl-ledger.lock'" in str(
        caught.value
    )
    lock.unlink()
    ledger.append(store, [make_statement(1)])


# --- the commands ----------------------------------------------------------------------------


def test_init_refuses_a_default_ledger_branch_that_is_a_symbolic_ref_to_main(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main_tip = git(git_repo, "rev-parse", "main")
    git(git_repo, "symbolic-ref", "refs/heads/sdl-ledger", "refs/heads/main")
    code, text = run(["init", "-C", str(git_repo)], capsys)
    assert code == 2, text
    assert _symref_message("sdl-ledger", "refs/heads/main") in text
    assert not (git_repo / ".sdl-tracker.toml").exists()  # refused before anything was written
    code, text = run(["init", "--branch", "sdl-ledger", "-C", str(git_repo)], capsys)
    assert code == 2 and "is a symbolic ref to refs/heads/main" in text
    assert git(git_repo, "rev-parse", "main") == main_tip


def test_record_never_writes_a_ledger_entry_onto_main_through_a_symbolic_ref(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    main_tip = git(git_repo, "rev-parse", "main")
    config = git_repo / ".sdl-tracker.toml"
    config.write_text(config.read_text().replace('branch = "sdl-ledger"', 'branch = "alias"'))
    git(git_repo, "symbolic-ref", "refs/heads/alias", "refs/heads/main")
    report = tmp_path / "pentest.pdf"
    report.write_bytes(b"%PDF-1.4 findings: none\n")
    argv = ["record", "pentest_report", str(report), "-r", "SVV-4", "-C", str(git_repo)]
    code, text = run(argv, capsys)
    assert code == 2, text
    assert _symref_message("alias", "refs/heads/main") in text
    assert git(git_repo, "rev-parse", "main") == main_tip
    assert git(git_repo, "rev-parse", "refs/heads/main^{tree}") == git(
        git_repo, "rev-parse", f"{main_tip}^{{tree}}"
    )


def test_init_refuses_the_checked_out_branch_in_another_case_when_case_is_ignored(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(git_repo, "config", "core.ignorecase", "true")
    code, text = run(["init", "--branch", "MAIN", "-C", str(git_repo)], capsys)
    assert code == 2, text
    assert "the ledger branch 'MAIN' differs only in case from the branch 'main'" in text
    assert not (git_repo / ".sdl-tracker.toml").exists()


def test_a_git_failure_in_the_branch_check_stops_the_command(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A branch git cannot look up: refused before init writes anything.
    code, text = run(["init", "--branch", "a..b", "-C", str(git_repo)], capsys)
    assert code == 2, text
    assert "cannot tell whether the ledger branch 'a..b' is a symbolic ref" in text
    assert not (git_repo / ".sdl-tracker.toml").exists()


def test_ledger_sync_never_moves_main_through_a_symbolic_ref(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = git_repo.parent / "origin.git"
    git(git_repo.parent, "init", "-q", "--bare", "-b", "main", str(bare))
    git(git_repo, "remote", "add", "origin", str(bare))
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    git(git_repo, "push", "-q", "origin", "sdl-ledger")
    # Locally the ledger branch is then made a symbolic ref to the work branch.
    git(git_repo, "update-ref", "-d", "refs/heads/sdl-ledger")
    git(git_repo, "symbolic-ref", "refs/heads/sdl-ledger", "refs/heads/main")
    main_tip = git(git_repo, "rev-parse", "main")
    code, text = run(["ledger", "sync", "--remote", "origin", "-C", str(git_repo)], capsys)
    assert code == 2, text
    assert _symref_message("sdl-ledger", "refs/heads/main") in text
    assert git(git_repo, "rev-parse", "main") == main_tip
