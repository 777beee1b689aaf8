from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker.hooks import secrets

from .framework import Run
from .scenarios import AWS_KEY

DETECT_SECRETS = Path(sys.executable).parent / "detect-secrets"


def test_framework_passes_files_without_secrets(framework_runs: dict[str, Run]) -> None:
    assert framework_runs["pre-commit-pass"].status("sdl-secrets") == "Passed"


def test_framework_fails_on_a_planted_secret(framework_runs: dict[str, Run]) -> None:
    run = framework_runs["pre-commit-fail"]
    section = run.section("sdl-secrets")
    assert run.status("sdl-secrets") == "Failed"
    assert "deploy.env:1: AWS Access Key: remove it" in section
    assert AWS_KEY not in run.output


@pytest.fixture
def repo(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(git_repo)
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    return git_repo


def _stage(repo: Path, name: str, text: str) -> None:
    (repo / name).write_text(text)
    git(repo, "add", name)


def test_a_secret_fails_and_is_never_printed(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _stage(repo, "settings.ini", f"[aws]\nkey = {AWS_KEY}\n")
    _stage(repo, "README.md", "# demo\nno secret\n")
    assert secrets.main(["settings.ini", "README.md"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("settings.ini:2: AWS Access Key: remove it (and rotate it")
    assert "`detect-secrets scan > .secrets.baseline`" in out
    assert AWS_KEY not in out and len(out.splitlines()) == 1


def test_a_baselined_secret_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _stage(repo, "settings.ini", f"[aws]\nkey = {AWS_KEY}\n")
    baseline = subprocess.run(
        [str(DETECT_SECRETS), "scan", "settings.ini"], cwd=repo, capture_output=True, check=True
    ).stdout
    (repo / ".secrets.baseline").write_bytes(baseline)
    assert secrets.main(["settings.ini", ".secrets.baseline"]) == 0
    assert capsys.readouterr().out == ""
    # a second, new secret is still found; the message now points at the baseline
    _stage(repo, "more.ini", f"key = {'AKIA' + 'Z' * 16}\n")
    assert secrets.main(["settings.ini", "more.ini"]) == 1
    assert "more.ini:1: AWS Access Key" in capsys.readouterr().out


def test_the_configured_baseline_is_used(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _stage(repo, "settings.ini", f"key = {AWS_KEY}\n")
    baseline = subprocess.run(
        [str(DETECT_SECRETS), "scan", "settings.ini"], cwd=repo, capture_output=True, check=True
    ).stdout
    (repo / "ci").mkdir()
    (repo / "ci" / "secrets.json").write_bytes(baseline)
    (repo / ".sdl-tracker.toml").write_text('[collectors.secrets]\nbaseline = "ci/secrets.json"\n')
    assert secrets.main(["settings.ini"]) == 0


def test_the_staged_content_is_scanned_not_the_work_tree(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stage(repo, "app.cfg", f"token = {AWS_KEY}\n")
    (repo / "app.cfg").write_text("token = from-the-environment\n")  # not staged
    assert secrets.main(["app.cfg"]) == 1
    assert "app.cfg:1: AWS Access Key" in capsys.readouterr().out
    # pre-commit stashes unstaged changes itself, so there the work tree is what is committed
    monkeypatch.setenv("PRE_COMMIT", "1")
    assert secrets.main(["app.cfg"]) == 0


def test_a_file_that_cannot_be_decoded_fails(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "latin.txt").write_bytes(b"caf\xe9 = ok\n")
    git(repo, "add", "latin.txt")
    assert secrets.main(["latin.txt"]) == 1
    assert "latin.txt:1: not scanned: the file cannot be decoded" in capsys.readouterr().out


def test_no_files_is_a_no_op(repo: Path) -> None:
    assert secrets.main([]) == 0


def test_a_broken_baseline_exits_2_naming_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".secrets.baseline").write_text("{")
    _stage(repo, "a.txt", "hello\n")
    assert secrets.main(["a.txt"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sdl-secrets: error: .secrets.baseline: line 1 column 2: invalid JSON")


SHA1 = "3e8a8703264a2f4a69428a0aa4dcb512790b2c8c"
SHA256 = "5d6ee4f6b5a1f9f6e6c2d0fb7b3a74e8a0c4e3c5a9b6f7e1d2c3b4a5968778e9"
SRI = "oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC"
PINS = {
    ".pre-commit-config.yaml": (
        f"repos:\n  - repo: https://github.com/PyCQA/bandit\n    rev: {SHA1}  # frozen: 1.7.9\n"
        "    hooks:\n      - id: bandit\n"
    ),
    "ci.yml": f"steps:\n  - uses: actions/checkout@{SHA1}\n",
    "requirements.txt": f"idna==3.7 \\\n    --hash=sha256:{SHA256}\n",
    "index.html": f'<script src="x.js" integrity="sha384-{SRI}"></script>\n',
    "uv.lock": f'[[package]]\nname = "x"\nsource = {{ git = "https://x/y#{SHA1}" }}\n'
    f'sdist = {{ hash = "sha256:{SHA256}" }}\n',
    "pylock.toml": f'[[packages]]\nname = "x"\n[packages.vcs]\ncommit-id = "{SHA1}"\n',
}


def test_pins_digests_and_lock_files_are_not_secrets(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, text in PINS.items():
        _stage(repo, name, text)
    assert secrets.main(list(PINS)) == 0, capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("settings.py", f'api_secret = "{SHA1}"\n'),
        ("deploy.yaml", f"token: {SHA256}\n"),
        ("notes.txt", f"password={SRI}\n"),
    ],
)
def test_the_same_strings_elsewhere_still_fail(
    repo: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    _stage(repo, name, text)
    assert secrets.main([name]) == 1
    assert capsys.readouterr().out.startswith(f"{name}:1: ")


PLACEHOLDERS = {
    "settings.py": 'secret_key = "secret_key"\nself.api_key = "API-KEY"\n',
    "app.yaml": "password: password\ndb_password: db_password\n",
    "config.json": '{"password": "password", "client_secret": "CLIENT_SECRET"}\n',
    ".env": "PASSWORD=PASSWORD\n",
}


def test_a_keyword_assigned_its_own_name_is_not_a_secret(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, text in PLACEHOLDERS.items():
        _stage(repo, name, text)
    assert secrets.main(list(PLACEHOLDERS)) == 0, capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("settings.py", 'secret_key = "secret_key"\nsecret_key = "secret_key-prod-7Qz"\n', 2),
        ("app.yaml", 'password: password\napi_key: "wJalrXUtnFEMIK7MDENGbPxRfiCY"\n', 2),
        ("config.json", '{"password": "password", "db_password": "hunter2-is-real"}\n', 1),
        ("deploy.env", "PASSWORD=PASSWORD\nAPI_KEY=password1\n", 2),
        ("app.py", 'password = "password"; token = "token"; api_key = "sk-live-9Qz"\n', 1),
        ("x.ini", "[db]\npassword = secret_key\n", 2),
    ],
)
def test_the_real_secret_next_to_a_placeholder_still_fails(
    repo: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, line: int
) -> None:
    _stage(repo, name, text)
    assert secrets.main([name]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines and all(x.startswith(f"{name}:{line}: ") for x in lines), out
