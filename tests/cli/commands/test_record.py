"""`record` reads only what it should: regular files within the size limit, no symlink out of
the repository unless asked, and never blocks on a FIFO or a device."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.workspace import open_workspace


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    started = time.monotonic()
    code = main(argv)
    assert time.monotonic() - started < 10, "record must not block"
    return code, capsys.readouterr().err


@pytest.fixture
def repo(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["init", "-C", str(git_repo)]) == 0
    capsys.readouterr()
    return git_repo


def _entries(root: Path) -> list[dict]:  # type: ignore[type-arg]
    return [e.to_json() for e in ledger.entries(open_workspace(root).store())]


def _record(root: Path, file: Path | str, *extra: str) -> list[str]:
    return ["record", "pentest_report", str(file), "-r", "SVV-4", "-C", str(root), *extra]


def test_dev_zero_fails_at_once(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(_record(repo, "/dev/zero"), capsys)
    assert code == 2
    assert "/dev/zero: not a regular file (a character device)" in err
    assert len(_entries(repo)) == 0


def test_a_fifo_does_not_block(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fifo = tmp_path / "report.pdf"
    os.mkfifo(fifo)
    code, err = _run(_record(repo, fifo), capsys)
    assert code == 2 and "not a regular file (a FIFO (named pipe))" in err


def test_a_directory_and_a_socket_are_refused(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, err = _run(_record(repo, tmp_path), capsys)
    assert code == 2 and "not a regular file (a directory)" in err
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        code, err = _run(_record(repo, path), capsys)
    assert code == 2 and "not a regular file" in err


def test_a_symlink_out_of_the_repository_is_refused_unless_allowed(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$secret\n")
    link = repo / "report.pdf"
    link.symlink_to(secret)
    code, err = _run(_record(repo, link), capsys)
    assert code == 2
    assert f"a symlink to {secret.resolve()}, outside the repository" in err
    assert "--allow-outside" in err and len(_entries(repo)) == 0
    linked_dir = repo / "docs"
    linked_dir.symlink_to(tmp_path)
    code, err = _run(_record(repo, linked_dir / "shadow"), capsys)
    assert code == 2 and "outside the repository" in err
    code, err = _run(_record(repo, link, "--allow-outside"), capsys)
    assert code == 0, err
    (entry,) = _entries(repo)
    assert entry["statement"]["predicate"]["details"] == {"resolved_path": str(secret.resolve())}


def test_a_symlink_within_the_repository_and_a_plain_outside_file_are_fine(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (repo / "reports").mkdir()
    target = repo / "reports" / "pentest.pdf"
    target.write_bytes(b"%PDF-1.7\n")
    (repo / "latest.pdf").symlink_to(target)
    outside = tmp_path / "training.csv"
    outside.write_text("name,date\n")
    assert _run(_record(repo, repo / "latest.pdf"), capsys)[0] == 0
    assert _run(_record(repo, outside), capsys)[0] == 0
    assert [e["statement"]["predicate"]["details"] for e in _entries(repo)] == [{}, {}]


def test_size_limit_with_a_clear_error_and_the_key_that_raises_it(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        f.truncate(100 * 1024 * 1024 + 1)  # sparse: costs no disk
    code, err = _run(_record(repo, big), capsys)
    assert code == 2
    assert "larger than the 100 MiB allowed for a record file" in err
    assert "`record = ...` in the [limits] table" in err
    (repo / ".sdl-tracker.toml").write_text(
        (repo / ".sdl-tracker.toml").read_text() + '\n[limits]\nrecord = "1 KiB"\n'
    )
    small = tmp_path / "small.txt"
    small.write_bytes(b"x" * 1025)
    code, err = _run(_record(repo, small), capsys)
    assert code == 2 and "1 KiB allowed" in err
    small.write_bytes(b"x" * 1024)
    assert _run(_record(repo, small), capsys)[0] == 0
