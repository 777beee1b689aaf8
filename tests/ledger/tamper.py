"""Tamper with a ledger as an attacker with write access would: plain git, no sdl-tracker."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

Files = dict[str, bytes]


def _git(root: Path, *args: str, env: dict[str, str] | None = None, data: bytes = b"") -> str:
    proc = subprocess.run(
        ["git", *args], cwd=root, input=data, capture_output=True, check=True, env=env
    )
    return proc.stdout.decode().strip()


def branch_files(root: Path, ref: str = "sdl-ledger") -> Files:
    listing = _git(root, "ls-tree", "-r", "--name-only", ref)
    return {
        p: subprocess.run(
            ["git", "cat-file", "blob", f"{ref}:{p}"], cwd=root, capture_output=True, check=True
        ).stdout
        for p in listing.splitlines()
    }


def commit_files(root: Path, files: Files, *, parent: str | None, message: str) -> str:
    """A commit whose tree holds exactly `files` (made with a private index)."""
    env = {**os.environ, "GIT_INDEX_FILE": str(root / ".git" / "tamper-index")}
    _git(root, "read-tree", "--empty", env=env)
    for path, data in files.items():
        oid = _git(root, "hash-object", "-w", "--stdin", data=data)
        _git(root, "update-index", "--add", "--cacheinfo", f"100644,{oid},{path}", env=env)
    tree = _git(root, "write-tree", env=env)
    args = ["commit-tree", tree, "-m", message] + (["-p", parent] if parent else [])
    return _git(root, *args)


def rewrite(
    root: Path,
    edit: Callable[[Files], Files],
    branch: str = "sdl-ledger",
    *,
    message: str | None = None,
) -> str:
    """One plain commit on top of the branch changing its files as `edit` says; by default
    it keeps the head-marker trailers of the tip so that only the content tells."""
    tip = _git(root, "rev-parse", branch)
    if message is None:
        message = _git(root, "log", "-1", "--format=%B", branch)
    commit = commit_files(root, edit(branch_files(root, branch)), parent=tip, message=message)
    _git(root, "update-ref", f"refs/heads/{branch}", commit)
    return commit


def replace_in_entries(old: bytes, new: bytes) -> Callable[[Files], Files]:
    def edit(files: Files) -> Files:
        out = dict(files)
        for path, data in files.items():
            if path.startswith("entries/") and old in data:
                out[path] = data.replace(old, new)
                return out
        raise AssertionError(f"{old!r} is in no entry")

    return edit


def sealed_line(seq: int, prev: str, statement: bytes = b"{}", objects: bytes = b"") -> bytes:
    """An entry line sealed exactly as the chain seals it: what a forger with the format writes."""
    body = (
        b'{"objects":['
        + objects
        + b'],"prev":"'
        + prev.encode()
        + b'","seq":'
        + str(seq).encode()
        + b',"statement":'
        + statement
        + b"}"
    )
    digest = hashlib.sha256(body).hexdigest()
    return b'{"hash":"' + digest.encode() + b'",' + body[1:]
