"""sdl-commit-msg's cache of a valid configuration: the same behaviour with and without it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import git

import sdl_tracker
from sdl_tracker.hooks import _settings_cache, commit_msg

from .scenarios import CLEAN, DATA

CRITICAL = '[hooks]\nsecurity_critical_paths = ["src/agent/*"]\n'
CONFIGS = {
    "dedicated": (".sdl-tracker.toml", CRITICAL),
    "pyproject": (
        "pyproject.toml",
        '[tool.sdl-tracker.hooks]\nsecurity_critical_paths = ["src/*"]\n',
    ),
    "pyproject without the table": ("pyproject.toml", '[project]\nname = "sdl-tracker-demo"\n'),
    "threat-model owns": (
        ".sdl-tracker.toml",
        '[collectors.threat-model]\nowns = {"threat-model.yaml" = ["src/agent/*"]}\n',
    ),
    "threat-model paths": (
        ".sdl-tracker.toml",
        '[collectors.threat-model]\npaths = ["models/*.yaml"]\n',
    ),
    "unknown key": (".sdl-tracker.toml", CRITICAL + "bad = 1\n"),
    "wrong type": (".sdl-tracker.toml", '[hooks]\nsecurity_critical_paths = "src"\n'),
    "empty glob": (".sdl-tracker.toml", '[hooks]\nsecurity_critical_paths = [""]\n'),
    "invalid TOML": (".sdl-tracker.toml", "[hooks\n"),
    "unknown section": (".sdl-tracker.toml", "[hook]\n"),
    "bad ledger key": (".sdl-tracker.toml", '[ledger]\nbrunch = "x"\n'),
    "bad pyproject": ("pyproject.toml", "[tool.sdl-tracker]\ncatalogue = 1\n"),
}
INVALID = {case for case in CONFIGS if list(CONFIGS).index(case) >= 5}
MESSAGES = ("Subject\n", "Subject\n\nSecurity-Review: tests only\n")


@pytest.fixture
def repo(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(git_repo)
    (git_repo / "src" / "agent").mkdir(parents=True)
    (git_repo / "src" / "agent" / "verify.py").write_text(CLEAN)
    git(git_repo, "add", "-A")
    return git_repo


def _cache(repo: Path) -> Path:
    return repo / ".git" / "sdl-tracker" / _settings_cache.NAME


def _run(repo: Path, capsys: pytest.CaptureFixture[str], text: str) -> tuple[int, str, str]:
    (repo.parent / "MSG").write_text(text)
    code = commit_msg.main([str(repo.parent / "MSG")])
    captured = capsys.readouterr()
    (repo / ".git" / "sdl-tracker" / "hooks-ran").unlink(missing_ok=True)
    return code, captured.out, captured.err


def _uncached(repo: Path, capsys: pytest.CaptureFixture[str], text: str) -> tuple[int, str, str]:
    _cache(repo).unlink(missing_ok=True)
    return _run(repo, capsys, text)


@pytest.mark.parametrize("with_model", [False, True], ids=["no model", "model"])
@pytest.mark.parametrize("case", list(CONFIGS))
def test_cached_and_uncached_agree(
    repo: Path, capsys: pytest.CaptureFixture[str], case: str, with_model: bool
) -> None:
    name, text = CONFIGS[case]
    (repo / name).write_text(text)
    if with_model:
        (repo / "threat-model.yaml").write_text((DATA / "threat-model.yaml").read_text())
        git(repo, "add", "threat-model.yaml")
        git(repo, "commit", "-q", "-m", "model")
        (repo / "src" / "agent" / "verify.py").write_text(CLEAN + "# changed\n")
        git(repo, "add", "-A")
    for message in MESSAGES:
        first = _uncached(repo, capsys, message)
        cached = _cache(repo).is_file()
        assert cached == (case not in INVALID), first  # only a valid configuration is kept
        assert first[0] != 2 or "error:" in first[2]
        assert _run(repo, capsys, message) == first  # from the cache, when there is one
        assert _run(repo, capsys, message) == first
    if case == "wrong type":
        assert "hooks.security_critical_paths: expected a list of globs" in first[2]


def test_an_edit_of_one_byte_is_seen(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Same size, same modification time: the bytes differ, so the cache does not apply."""
    config = repo / ".sdl-tracker.toml"
    config.write_text(CRITICAL)
    assert _run(repo, capsys, "Subject\n")[0] == 1
    assert _cache(repo).is_file()
    stamp = config.stat()
    config.write_text(CRITICAL.replace("src/agent/*", "src/agenT/*"))
    os.utime(config, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert _run(repo, capsys, "Subject\n")[0] == 0
    config.write_text(CRITICAL.replace("src/agent/*", "src/agent/*\u0022 "))  # now invalid
    os.utime(config, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    for _ in range(2):  # an error every time, never a cached pass
        code, _out, err = _run(repo, capsys, "Subject\n")
        assert code == 2
        assert "invalid TOML" in err
    config.write_text(CRITICAL)
    assert _run(repo, capsys, "Subject\n")[0] == 1


def test_the_cached_path_reads_no_toml(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The second commit uses the cache: no TOML parser, no configuration module."""
    (repo / ".sdl-tracker.toml").write_text(CRITICAL)
    assert _run(repo, capsys, "Subject\n\nSecurity-Review: tests only\n")[0] == 0
    code = (
        "import sys; before = set(sys.modules); from sdl_tracker.hooks import commit_msg; "
        "code = commit_msg.main([sys.argv[1]]); "
        "heavy = {'tomllib', 'tomli', 'dataclasses', 'pathlib', 'sdl_tracker.config', 'json'}; "
        "print(code, sorted(heavy & (set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(repo.parent / "MSG")],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == "0 []\n"


def _forged(repo: Path, paths: tuple[str, ...], name: str = ".sdl-tracker.toml") -> bytes:
    """A well-formed cache entry for the configuration `CRITICAL` that names other paths."""
    elsewhere = repo.parent / "forged"
    _settings_cache.store(str(elsewhere), name, CRITICAL.encode(), paths, True)
    return elsewhere.read_bytes()


@pytest.mark.parametrize(
    "damage",
    [
        "garbage",
        "truncated",
        "trailing",
        "leading zero",
        "flag",
        "empty path",
        "not UTF-8",
        "other version",
        "other file",
        "huge",
        "symlink",
        "directory",
        "fifo",
    ],
)
def test_a_damaged_or_foreign_cache_is_ignored(
    repo: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    """Each damaged cache would, if trusted, let the commit pass without a review trailer."""
    (repo / ".sdl-tracker.toml").write_text(CRITICAL)
    cache = _cache(repo)
    assert _run(repo, capsys, "Subject\n")[0] == 1  # writes the cache
    good = cache.read_bytes()
    unreviewed = _forged(repo, ())
    cache.unlink()
    if damage == "garbage":
        cache.write_bytes(b"\x00" * 100)
    elif damage == "truncated":
        cache.write_bytes(unreviewed[:-1])
    elif damage == "trailing":
        cache.write_bytes(unreviewed + b"3:abc" + b"x")
    elif damage == "leading zero":
        cache.write_bytes(unreviewed[:-3] + b"01:1")
    elif damage == "flag":
        cache.write_bytes(unreviewed[:-1] + b"2")
    elif damage == "empty path":
        cache.write_bytes(unreviewed + b"0:")
    elif damage == "not UTF-8":
        assert good.endswith(b"11:src/agent/*")
        cache.write_bytes(good[:-11] + b"src/agen\xff/*")
    elif damage == "other version":
        version = f"{sdl_tracker.__version__} {sys.version}".encode()
        other = b"9" * len(sdl_tracker.__version__) + version[len(sdl_tracker.__version__) :]
        assert version in unreviewed
        cache.write_bytes(unreviewed.replace(version, other, 1))
    elif damage == "other file":
        cache.write_bytes(_forged(repo, (), "pyproject.toml"))  # not the file config reads
        (repo.parent / "forged").write_bytes(unreviewed)
    elif damage == "huge":
        cache.write_bytes(unreviewed + b"0:" * (_settings_cache._MAX_CACHE // 2))
    elif damage == "symlink":
        (repo.parent / "forged").write_bytes(unreviewed)
        cache.symlink_to(repo.parent / "forged")
    elif damage == "directory":
        cache.mkdir()
    elif damage == "fifo":
        os.mkfifo(cache)
    code, out, _err = _run(repo, capsys, "Subject\n")
    assert code == 1
    assert "security-critical paths (src/agent/verify.py)" in out
    if damage != "directory":  # a directory cannot be replaced: not an error, no cache
        assert not cache.is_symlink()
        assert cache.read_bytes() == good  # rebuilt
    assert (repo.parent / "forged").read_bytes() == unreviewed  # a link's target is not written


def test_a_trusted_cache_is_used(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The check above is not vacuous: a well-formed entry for these exact bytes is used."""
    (repo / ".sdl-tracker.toml").write_text(CRITICAL)
    _cache(repo).parent.mkdir(parents=True)
    _cache(repo).write_bytes(_forged(repo, ("docs/*",)))
    assert _run(repo, capsys, "Subject\n")[0] == 0


def test_a_read_only_git_directory_is_not_an_error(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / ".sdl-tracker.toml").write_text(CRITICAL)

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(os, "replace", refuse)
    for _ in range(2):
        assert _run(repo, capsys, "Subject\n")[0] == 1
    assert not _cache(repo).exists()
    assert not list(_cache(repo).parent.glob("*.tmp"))
