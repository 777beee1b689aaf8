"""`init`, `record` and `ledger log|show|cat|verify` through the CLI, on both embedded stores."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker.cli.main import main


@pytest.fixture(params=["git", "dir"])
def repo(request: pytest.FixtureRequest, git_repo: Path, tmp_path: Path) -> list[str]:
    """Common arguments for a repository with a ledger on the branch or in a directory."""
    args = ["--repo", str(git_repo)]
    if request.param == "dir":
        args += ["--ledger-dir", str(tmp_path / "ledger")]
    assert main(["init", *args]) == 0
    return args


def _record(args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> bytes:
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.7 external pentest\n")
    assert (
        main(
            [
                "record",
                "pentest_report",
                str(report),
                "--requirement",
                "SVV-4",
                "--note",
                "external pentest, Acme Labs",
                *args,
            ]
        )
        == 0
    )
    assert main(["record", "training_record", str(report), *args]) == 0
    capsys.readouterr()
    return report.read_bytes()


def test_init_writes_config_and_is_idempotent(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--repo", str(git_repo)]) == 0
    assert (git_repo / ".sdl-tracker.toml").is_file()
    assert main(["init", "--repo", str(git_repo)]) == 0
    err = capsys.readouterr().err
    assert "kept as it is" in err and "already exists" in err
    assert git(git_repo, "status", "--porcelain") == "?? .gitignore\n?? .sdl-tracker.toml"


def test_init_reports_what_it_found_in_the_repository(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(git_repo, "tag", "1.0")
    git(git_repo, "tag", "-a", "-m", "second", "1.1")
    git(git_repo, "remote", "add", "origin", str(tmp_path / "elsewhere.git"))
    (git_repo / "sub").mkdir()
    assert main(["init", "--repo", str(git_repo / "sub")]) == 0
    err = capsys.readouterr().err
    assert f"repository: {git_repo} (2 tags; remotes: origin)" in err
    assert "no git identity" not in err
    assert (git_repo / ".sdl-tracker.toml").is_file()


def test_init_says_when_there_is_no_git_identity(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    git(git_repo, "config", "--unset", "user.name")
    git(git_repo, "config", "--unset", "user.email")
    monkeypatch.setenv("HOME", str(git_repo.parent))  # no global identity either
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    assert main(["init", "--repo", str(git_repo)]) == 0
    assert "note: no git identity" in capsys.readouterr().err


def test_init_refuses_a_bare_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    assert main(["init", "--repo", str(bare)]) == 2
    assert "error:" in capsys.readouterr().err
    assert not (bare / ".sdl-tracker.toml").exists()


def test_init_into_pyproject(git_repo: Path) -> None:
    (git_repo / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    assert main(["init", "--pyproject", "--repo", str(git_repo)]) == 0
    text = (git_repo / "pyproject.toml").read_text()
    assert "[tool.sdl-tracker]\n" in text and "[tool.sdl-tracker.ledger]" in text
    assert not (git_repo / ".sdl-tracker.toml").exists()


def test_record_log_show_cat_verify(
    repo: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _record(repo, tmp_path, capsys)
    digest = hashlib.sha256(data).hexdigest()

    assert main(["ledger", "log", "--format", "json", *repo]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["seq"] for e in entries] == [1, 2]
    first = entries[0]
    assert set(first) == {"seq", "hash", "prev", "objects", "statement"}
    assert first["prev"] == "0" * 64 and entries[1]["prev"] == first["hash"]
    p = first["statement"]["predicate"]
    assert (p["kind"], p["collector"], p["requirements"]) == ("pentest_report", "record", ["SVV-4"])
    assert p["note"] == "external pentest, Acme Labs"
    assert p["recorded_by"] == "Ada Lovelace <ada@example.com>"
    assert {"name": "report.pdf", "digest": {"sha256": digest}} in first["statement"]["subject"]
    # training_record with no --requirement: every requirement whose evidence lists the kind
    assert entries[1]["statement"]["predicate"]["requirements"] == ["SM-4"]

    assert main(["ledger", "log", *repo]) == 0
    err = capsys.readouterr().err
    assert "pentest_report" in err and "2 entries" in err

    assert main(["ledger", "show", "1", *repo]) == 0
    assert "note:         external pentest, Acme Labs" in capsys.readouterr().err
    assert main(["ledger", "show", "1", "--format", "json", *repo]) == 0
    assert json.loads(capsys.readouterr().out)["hash"] == first["hash"]

    assert main(["ledger", "cat", f"sha256:{digest}", *repo]) == 0
    assert capsys.readouterr().out == data.decode()

    assert main(["ledger", "verify", "--format", "json", *repo]) == 0
    verified = json.loads(capsys.readouterr().out)
    assert {k: verified[k] for k in ("ok", "entries", "artifacts")} == {
        "ok": True,
        "entries": 2,
        "artifacts": 1,
    }
    assert verified["checkpoints"]["verified"] == 0 and verified["checkpoints"]["bad"] == []
    assert verified["attestations"]["unsigned"] == 2 and verified["problems"] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["record", "pentest-report", "FILE"],
            "unknown evidence kind 'pentest-report': did you mean pentest_report?",
        ),
        (
            ["record", "pentest", "FILE"],
            "unknown evidence kind 'pentest': did you mean pentest_report?",
        ),
        (["record", "zzzz", "FILE"], "unknown evidence kind 'zzzz'; expected one of"),
        (["record", "pentest_report", "FILE", "-r", "SVV-9"], "unknown requirement 'SVV-9'"),
        (["record", "pentest_report", "missing.pdf"], "missing.pdf: cannot read"),
        (["ledger", "show", "99"], "no entry 99 in the ledger"),
        (["ledger", "cat", "abc"], "is not a SHA-256 digest"),
        (["ledger", "cat", "0" * 64], "no artifact sha256:"),
    ],
)
def test_bad_input_is_exit_2_and_appends_nothing(
    repo: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    real = tmp_path / "real.pdf"
    real.write_bytes(b"x")
    argv = [str(real) if a == "FILE" else a for a in argv]
    assert main([*argv, *repo]) == 2
    assert message in capsys.readouterr().err
    assert main(["ledger", "log", "--format", "json", *repo]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_no_ledger_yet_says_what_to_do(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "log", "--repo", str(git_repo)]) == 2
    assert "Run `sdl-tracker init` to create it" in capsys.readouterr().err


def test_outside_a_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "log", "--repo", str(tmp_path)]) == 2
    assert "not inside a git repository" in capsys.readouterr().err


def test_tampered_directory_ledger_fails_verify_naming_the_entry(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--repo", str(git_repo), "--ledger-dir", str(tmp_path / "ledger")]
    assert main(["init", *args]) == 0
    _record(args, tmp_path, capsys)
    lines = (tmp_path / "ledger" / "entries.jsonl").read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b"SM-4", b"SM-5")
    (tmp_path / "ledger" / "entries.jsonl").write_bytes(b"\n".join(lines))
    assert main(["ledger", "verify", *args]) == 1
    err = capsys.readouterr().err
    assert "entry 2 (" in err and "hash does not match its content" in err
