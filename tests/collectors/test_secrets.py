from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.collectors.secrets import Finding, load_baseline, scan
from sdl_tracker.ledger import GitStore

# Built at run time so that this file itself holds no secret-shaped literal.
AWS_KEY = "AKIA" + "Q3SDLTRACKERTEST"
KEY_BODY = "MIIEowIBAAKCAQEAsdLtRaCkErFaKeKeYbOdYdOnOtUsE" + "9f3kQ2xZ7pLmN4vB8cD1eF6gH0jK"
PEM_HEADER = "-----BEGIN " + "RSA PRIVATE KEY-----"
PEM = f"{PEM_HEADER}\n{KEY_BODY}\n-----END " + "RSA PRIVATE KEY-----\n"
SETTINGS = f'import os\n\nREGION = "eu-west-1"\nACCESS_KEY_ID = "{AWS_KEY}"\n'


def _commit(repo: Path, files: dict[str, str | bytes], message: str = "change") -> None:
    for name, content in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message)


def _collect(repo: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[dict, str]:
    capsys.readouterr()
    args = ["collect", "--only", "secrets", "--repo", str(repo), "--format", "json", *extra]
    assert main(args) == 0
    captured = capsys.readouterr()
    (entry,) = json.loads(captured.out)
    return entry["statement"], captured.out + captured.err


def _report(repo: Path, statement: dict) -> dict:
    (subject,) = [s for s in statement["subject"] if s["name"] == "secrets.json"]
    data = GitStore(repo).read_object(subject["digest"]["sha256"])
    assert data is not None
    return json.loads(data)


def _detect_secrets_baseline(repo: Path) -> dict:
    """What the real detect-secrets CLI records for the repository (its own baseline format)."""
    proc = subprocess.run(
        [sys.executable, "-m", "detect_secrets", "scan"],
        cwd=repo,
        capture_output=True,
        check=True,
        text=True,
    )
    return json.loads(proc.stdout)


def _ledger_bytes(repo: Path) -> bytes:
    """Every object reachable from the ledger branch: commits, trees, entries, artifacts."""
    listing = git(repo, "rev-list", "--objects", "sdl-ledger")
    oids = "".join(line.split()[0] + "\n" for line in listing.splitlines())
    proc = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch"],
        input=oids.encode(),
        capture_output=True,
        check=True,
    )
    return proc.stdout


@pytest.fixture
def repo(git_repo: Path) -> Path:
    assert main(["init", "--repo", str(git_repo)]) == 0
    return git_repo


def test_planted_secrets_fail_and_never_leak(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(repo, {"app/settings.py": SETTINGS, "deploy/id_rsa": PEM}, "oops")
    hashes = {
        item["hashed_secret"]
        for items in _detect_secrets_baseline(repo)["results"].values()
        for item in items
    }
    assert len(hashes) == 2
    statement, printed = _collect(repo, capsys)
    p = statement["predicate"]
    assert (p["kind"], p["collector"], p["tool"]["name"]) == (
        "secret_scan",
        "secrets",
        "detect-secrets",
    )
    assert p["requirements"] == ["SM-8"]
    assert p["result"]["status"] == "fail"
    assert p["result"]["metrics"] == {"findings": 2, "files_scanned": 3, "baselined": 0}
    assert "app/settings.py:4: AWS Access Key" in p["result"]["summary"]
    assert "deploy/id_rsa:1: Private Key" in p["result"]["summary"]
    report = _report(repo, statement)
    assert report["findings"] == [
        {"line": 4, "path": "app/settings.py", "type": "AWS Access Key"},
        {"line": 1, "path": "deploy/id_rsa", "type": "Private Key"},
    ]
    stored = _ledger_bytes(repo)
    assert b"AWS Access Key" in stored  # the scan's report is there …
    for secret in (AWS_KEY, KEY_BODY, PEM_HEADER, "RSA PRIVATE KEY", *hashes):
        assert secret.encode() not in stored  # … but never a secret or its hash
        assert secret not in printed


def test_baselined_secrets_are_not_findings(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _commit(repo, {"app/settings.py": SETTINGS})
    baseline = _detect_secrets_baseline(repo)
    _commit(repo, {".secrets.baseline": json.dumps(baseline, indent=2)}, "audit")
    statement, _ = _collect(repo, capsys)
    p = statement["predicate"]
    assert p["result"]["status"] == "pass", p["result"]["summary"]
    assert p["result"]["metrics"] == {"findings": 0, "files_scanned": 2, "baselined": 1}
    assert set(p["inputs"]) == {"tree:.", "file:.secrets.baseline"}

    _commit(repo, {"deploy/id_rsa": PEM, "app/settings.py": "# moved\n" + SETTINGS})
    p = _collect(repo, capsys)[0]["predicate"]
    assert p["result"]["status"] == "fail"
    assert p["result"]["metrics"] == {"findings": 1, "files_scanned": 3, "baselined": 1}
    assert p["result"]["summary"].startswith("1 unbaselined secrets in 3 files: deploy/id_rsa:1")


def test_baseline_path_is_configurable(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _commit(repo, {"app/settings.py": SETTINGS})
    (repo / "sec").mkdir()
    (repo / "sec" / "known.json").write_text(json.dumps(_detect_secrets_baseline(repo)))
    with (repo / ".sdl-tracker.toml").open("a") as f:
        f.write('\n[collectors.secrets]\nbaseline = "sec/known.json"\n')
    p = _collect(repo, capsys)[0]["predicate"]
    assert p["result"]["metrics"] == {"findings": 0, "files_scanned": 2, "baselined": 1}


def test_scans_the_commit_not_the_work_tree(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _commit(repo, {"app/settings.py": "REGION = 'eu-west-1'\n"})
    (repo / "app" / "settings.py").write_text(SETTINGS)  # not committed
    (repo / "scratch.py").write_text(SETTINGS)  # not tracked
    assert _collect(repo, capsys)[0]["predicate"]["result"]["status"] == "pass"

    _commit(repo, {"app/settings.py": SETTINGS})
    (repo / "app" / "settings.py").write_text("REGION = 'eu-west-1'\n")  # cleaned, not committed
    p = _collect(repo, capsys)[0]["predicate"]
    assert p["result"]["status"] == "fail"
    assert p["result"]["metrics"]["findings"] == 1
    assert "app/settings.py:4: AWS Access Key" in p["result"]["summary"]


def test_unchanged_tree_is_reaffirmed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _commit(repo, {"app/settings.py": "REGION = 'eu-west-1'\n"})
    first = _collect(repo, capsys)[0]
    again = _collect(repo, capsys)[0]
    assert again["predicate"]["result"]["summary"].startswith("reaffirmed: no unbaselined")
    assert again["subject"] == first["subject"]
    (repo / ".secrets.baseline").write_text(json.dumps(_detect_secrets_baseline(repo)))
    third = _collect(repo, capsys)[0]
    assert not third["predicate"]["result"]["summary"].startswith("reaffirmed")


def test_binary_files_are_skipped_and_undecodable_text_is_incomplete(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(
        repo, {"logo.bin": b"\x89PNG\0\0" + AWS_KEY.encode(), "notes.txt": b"caf\xe9 au lait\n"}
    )
    p = _collect(repo, capsys)[0]["predicate"]
    assert p["result"]["status"] == "incomplete"
    assert p["result"]["metrics"] == {"findings": 0, "files_scanned": 1, "baselined": 0}
    assert "notes.txt" in p["result"]["summary"]
    assert "UTF-8" in p["result"]["summary"]


def test_scan_api_for_hooks(repo: Path) -> None:
    _commit(repo, {"app/settings.py": SETTINGS})
    (repo / ".secrets.baseline").write_text(json.dumps(_detect_secrets_baseline(repo)))
    (repo / "new.pem").write_text(PEM)
    baseline = load_baseline(repo, ".secrets.baseline")
    assert baseline is not None
    files = ["app/settings.py", "new.pem", "deleted.py", ".secrets.baseline"]
    assert scan(repo, files, baseline) == [Finding("new.pem", 1, "Private Key")]
    assert scan(repo, files) == [
        Finding("app/settings.py", 4, "AWS Access Key"),
        Finding("new.pem", 1, "Private Key"),
    ]
    assert str(Finding("new.pem", 1, "Private Key")) == "new.pem:1: Private Key"


@pytest.fixture(scope="module")
def settings_baseline(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """detect-secrets' own baseline for a tree holding SETTINGS as app/settings.py."""
    root = tmp_path_factory.mktemp("baseline")
    git(root, "init", "-q")
    (root / "app").mkdir()
    (root / "app" / "settings.py").write_text(SETTINGS)
    git(root, "add", ".")
    return _detect_secrets_baseline(root)


def _with(baseline: dict, **changes: object) -> str:
    return json.dumps({**baseline, **changes}, indent=2)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda b: '{"version": "1.5.0",\n "results": {', ".secrets.baseline: line 2 column"),
        (lambda b: "[]", ".secrets.baseline: $: expected a JSON object"),
        (lambda b: _with(b, results=[]), "$.results: expected an object"),
        (
            lambda b: _with(
                b, results={"a.py": [{"type": "AWS Access Key", "hashed_secret": "x"}]}
            ),
            '$.results["a.py"][0].hashed_secret: expected 40 lowercase hex digits',
        ),
        (lambda b: _with(b, results={"a.py": [{"hashed_secret": "0" * 40}]}), "[0].type"),
        (lambda b: _with(b, plugins_used=[{"limit": 3}]), "$.plugins_used[0].name"),
        (
            lambda b: _with(b, plugins_used=[{"name": "NoSuchDetector"}]),
            "$.plugins_used[0].name: unknown plugin 'NoSuchDetector'",
        ),
        (lambda b: _with(b, plugins_used=[]), "$.plugins_used: no plugins"),
        (
            lambda b: _with(b, filters_used=[{"path": "detect_secrets.filters.heuristic.nope"}]),
            "cannot load them",
        ),
        (lambda b: _with(b, version=None), "$.version"),
    ],
)
def test_malformed_baseline_exits_2_and_appends_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str], settings_baseline: dict, make, expected: str
) -> None:
    _commit(repo, {"app/settings.py": SETTINGS})
    (repo / ".secrets.baseline").write_text(make(settings_baseline))
    capsys.readouterr()
    assert main(["collect", "--only", "secrets", "--repo", str(repo)]) == 2
    captured = capsys.readouterr()
    assert "error: .secrets.baseline: " in captured.err
    assert expected in captured.err
    assert "Traceback" not in captured.err
    assert list(ledger.entries(GitStore(repo))) == []


def test_unknown_config_key_exits_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with (repo / ".sdl-tracker.toml").open("a") as f:
        f.write('\n[collectors.secrets]\nbaselines = "x"\n')
    assert main(["collect", "--only", "secrets", "--repo", str(repo)]) == 2
    assert (
        "[collectors.secrets] unknown key 'baselines': did you mean 'baseline'?"
        in capsys.readouterr().err
    )


def test_hash_used_by_detect_secrets_is_sha1_of_the_value() -> None:
    # The leak test above relies on this: detect-secrets' hashed_secret is SHA-1 of the value.
    from detect_secrets.core.potential_secret import PotentialSecret

    assert PotentialSecret.hash_secret(AWS_KEY) == hashlib.sha1(AWS_KEY.encode()).hexdigest()
