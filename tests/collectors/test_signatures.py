from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.gitdata import signing
from sdl_tracker.ledger import GitStore

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")


def _key(directory: Path, name: str) -> Path:
    key = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    directory = tmp_path / "keys"
    directory.mkdir()
    trusted, stranger = _key(directory, "trusted"), _key(directory, "stranger")
    allowed = directory / "allowed_signers"
    allowed.write_text(f"ada@example.com {(directory / 'trusted.pub').read_text()}")
    return {"trusted": trusted, "stranger": stranger, "allowed": allowed}


@pytest.fixture
def repo(git_repo: Path, keys: dict[str, Path]) -> Path:
    git(git_repo, "config", "gpg.format", "ssh")
    git(git_repo, "config", "gpg.ssh.allowedSignersFile", str(keys["allowed"]))
    assert main(["init", "--repo", str(git_repo)]) == 0
    git(git_repo, "tag", "v0.9")
    return git_repo


def commit(repo: Path, subject: str, key: Path | None = None) -> str:
    (repo / "file.txt").write_text(subject)
    git(repo, "add", "file.txt")
    sign = ["-c", f"user.signingkey={key}"] if key else []
    git(repo, *sign, "commit", "-q", *(["-S"] if key else []), "-m", subject)
    return git(repo, "rev-parse", "HEAD")


def tampered(repo: Path, signed: str) -> str:
    """A copy of a signed commit with a changed message: the signature no longer matches."""
    raw = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "commit", signed], capture_output=True, check=True
    ).stdout
    new = git(
        repo,
        "hash-object",
        "-t",
        "commit",
        "-w",
        "--stdin",
        input=raw.replace(b"good change", b"evil change"),
    )
    git(repo, "reset", "-q", "--hard", new)
    return new


def collect(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    capsys.readouterr()
    code = main(["collect", "--only", "signatures", "--repo", str(repo), "--format", "json", *args])
    assert code == 0, capsys.readouterr().err
    return [e["statement"]["predicate"] for e in json.loads(capsys.readouterr().out)]


def _history(repo: Path, keys: dict[str, Path]) -> dict[str, str]:
    ids = {"good": commit(repo, "good change", keys["trusted"])}
    ids["bad"] = tampered(repo, ids["good"])
    ids["unknown"] = commit(repo, "stranger's change", keys["stranger"])
    ids["unsigned"] = commit(repo, "unsigned change")
    ids["good2"] = commit(repo, "second good change", keys["trusted"])
    return ids


def test_commit_signatures_and_signed_tag(
    repo: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _history(repo, keys)
    git(repo, "-c", f"user.signingkey={keys['trusted']}", "tag", "-s", "v1.0", "-m", "release")
    commits, tag = collect(repo, capsys)
    assert commits["kind"] == "signed_commit"
    assert commits["requirements"] == ["SM-7"]
    assert commits["result"]["metrics"] == {
        "commits": 4,  # the tampered commit replaced "good change" on the branch
        "signed": 3,
        "good": 1,
        "bad": 1,
        "unknown_key": 1,
        "expired": 0,
        "unverifiable": 0,
        "tag_signed": 1,
        "tag_good": 1,
    }
    assert commits["result"]["status"] == "fail"
    assert commits["result"]["summary"] == (
        "1 of 4 commits carry a good signature (3 signed, 1 bad, 1 unknown key) in v0.9..HEAD; "
        "release tag v1.0: good signature"
    )
    store = GitStore(repo)
    report = json.loads(store.read_object(_artifact(store, "signatures.json")) or b"")
    statuses = {c["id"]: c["status"] for c in report["commits"]}
    assert statuses == {
        ids["bad"]: "B",
        ids["unknown"]: "U",
        ids["unsigned"]: "N",
        ids["good2"]: "G",
    }
    assert tag["kind"] == "signed_tag"
    assert tag["result"]["status"] == "pass"
    assert tag["result"]["metrics"] == {"signed": 1, "good": 1}
    assert tag["requirements"] == ["SM-6", "SUM-4"]


def _artifact(store: GitStore, name: str) -> str:
    for entry in reversed(list(ledger.entries(store))):
        for a in entry.statement().artifacts:
            if a.name == name:
                return a.sha256
    raise AssertionError(name)


@pytest.mark.parametrize(
    ("how", "status", "words"),
    [
        ("stranger", "fail", "release tag v1.0: signed, unknown key"),
        ("tampered", "fail", "release tag v1.0: BAD signature"),
        ("expired", "fail", "release tag v1.0: signed, expired"),
        ("not yet valid", "fail", "release tag v1.0: signed, unknown key"),
        ("annotated", "fail", "release tag v1.0: not signed"),
        ("lightweight", "fail", "release tag v1.0: not signed"),
    ],
)
def test_release_tag_not_good(
    repo: Path,
    keys: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    how: str,
    status: str,
    words: str,
) -> None:
    commit(repo, "signed", keys["trusted"])
    if how == "stranger":
        git(repo, "-c", f"user.signingkey={keys['stranger']}", "tag", "-s", "v1.0", "-m", "r")
    elif how == "tampered":
        git(repo, "-c", f"user.signingkey={keys['trusted']}", "tag", "-s", "v1.0", "-m", "r")
        raw = subprocess.run(
            ["git", "-C", str(repo), "cat-file", "tag", "v1.0"], capture_output=True, check=True
        ).stdout
        assert b"\n\nr\n-----BEGIN SSH SIGNATURE-----" in raw
        forged = raw.replace(b"\n\nr\n", b"\n\nforged\n", 1)
        git(repo, "update-ref", "refs/tags/v1.0", git(repo, "mktag", input=forged))
    elif how in ("expired", "not yet valid"):
        # The trusted key, but the roster's window for it (ssh-keygen's allowed-signers
        # options) closed before the tag was made, or opens only later.
        window = 'valid-before="20200101"' if how == "expired" else 'valid-after="20990101"'
        pub = (keys["trusted"].parent / "trusted.pub").read_text()
        keys["allowed"].write_text(f"ada@example.com {window} {pub}")
        git(repo, "-c", f"user.signingkey={keys['trusted']}", "tag", "-s", "v1.0", "-m", "r")
    elif how == "annotated":
        git(repo, "tag", "-a", "v1.0", "-m", "r")
    else:
        git(repo, "tag", "v1.0")
    commits, tag = collect(repo, capsys)
    assert tag["result"]["status"] == status
    assert tag["result"]["summary"].startswith(words)
    assert commits["result"]["metrics"]["tag_good"] == 0
    if how in ("expired", "not yet valid"):
        return  # the same window applies to the commit's signature
    assert commits["result"]["status"] == "pass"  # the one commit is signed and good


def test_release_option_and_no_tag(
    repo: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, "signed", keys["trusted"])
    (only,) = collect(repo, capsys)  # no tag at HEAD: commits only
    assert only["result"]["metrics"]["tag_signed"] == 0
    git(repo, "-c", f"user.signingkey={keys['trusted']}", "tag", "-s", "rel-1", "-m", "r")
    commit(repo, "later", keys["trusted"])
    _, tag = collect(repo, capsys, "--release", "rel-1", "--force")
    assert tag["result"]["summary"].startswith("release tag rel-1: good signature")


def test_unknown_release_exits_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = len(list(ledger.entries(GitStore(repo))))
    assert main(["collect", "--only", "signatures", "--repo", str(repo), "--release", "v9"]) == 2
    assert "--release 'v9': no such tag" in capsys.readouterr().err
    assert len(list(ledger.entries(GitStore(repo)))) == before


def test_unverifiable_without_allowed_signers_is_incomplete(
    repo: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, "signed", keys["trusted"])
    commit(repo, "unsigned")
    git(repo, "config", "--unset", "gpg.ssh.allowedSignersFile")
    (pred,) = collect(repo, capsys)
    assert pred["result"]["status"] == "incomplete"
    assert pred["result"]["metrics"]["unverifiable"] == 1
    assert pred["result"]["metrics"]["signed"] == 1
    assert "gpg.ssh.allowedSignersFile" in pred["result"]["summary"]


def test_cache_is_used_and_invalidated_by_trust_changes(
    repo: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    good = commit(repo, "signed", keys["trusted"])
    (pred,) = collect(repo, capsys)
    assert pred["result"]["metrics"]["good"] == 1
    path = signing.cache_path(repo)
    assert path.parent.name == "sdl-tracker" and path.parent.parent.name == ".git"
    data = json.loads(path.read_text())
    assert data["commits"][good][0] == "G"
    # the cache is read: a (forged) cached result wins while the trust digest is unchanged
    data["commits"][good] = ["B", "", ""]
    path.write_text(json.dumps(data))
    (pred,) = collect(repo, capsys, "--force")
    assert pred["result"]["metrics"]["bad"] == 1
    # a new allowed signers file invalidates every cached result
    keys["allowed"].write_text(keys["allowed"].read_text() + "\n")
    (pred,) = collect(repo, capsys, "--force")
    assert pred["result"]["metrics"]["good"] == 1
    assert pred["result"]["metrics"]["bad"] == 0


def test_unchanged_inputs_reaffirm(
    repo: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, "signed", keys["trusted"])
    collect(repo, capsys)
    (pred,) = collect(repo, capsys)
    assert pred["result"]["summary"].startswith("reaffirmed: 1 of 1 commits")


def test_shallow_clone_is_incomplete(
    repo: Path, keys: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, "one", keys["trusted"])
    commit(repo, "two", keys["trusted"])
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--no-tags", "--depth", "1", f"file://{repo}", str(clone))
    git(clone, "config", "gpg.ssh.allowedSignersFile", str(keys["allowed"]))
    assert main(["init", "--repo", str(clone)]) == 0
    (pred,) = collect(clone, capsys)
    assert pred["result"]["status"] == "incomplete"
    assert pred["result"]["metrics"]["good"] == 1
    assert "shallow" in pred["result"]["summary"]
