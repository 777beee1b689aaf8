"""Commit and tag signature status from git itself (GPG and SSH), with a per-commit cache.

git verifies each signature by running gpg or ssh-keygen (≈9 ms a commit), so results are
cached by commit id in `<git dir>/sdl-tracker/signature-cache.json`, keyed by a digest of
everything verification depends on (gpg.* settings, the SSH allowed-signers and revocation
files, the GPG keyring). Change any of them and every commit is verified again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sdl_tracker.gitdata import git

CACHE_VERSION = 1
#: `%G?` letters, plus `C`: a signature git could not check because verification is not set up
#: here (an SSH signature without gpg.ssh.allowedSignersFile shows as `N`).
GOOD, BAD, UNKNOWN_KEY, EXPIRED, UNSIGNED, UNVERIFIABLE = "G", "B", "UEK", "XY", "N", "C"
_REVOKED = "R"
_SIG_MARKERS = (
    b"-----BEGIN PGP SIGNATURE-----",
    b"-----BEGIN SSH SIGNATURE-----",
    b"-----BEGIN SIGNED MESSAGE-----",
)
_UNKNOWN_KEY_HINTS = ("No principal matched", "NO_PUBKEY", "No public key", "ERRSIG")
_NOT_SET_UP = ("needs to be configured", "cannot run gpg", "cannot run ssh-keygen")


@dataclass(frozen=True, slots=True)
class Signature:
    """One object's signature as git verified it."""

    status: str
    """A `%G?` letter (G B U X Y R E N) or `C` (signed, but verification is not set up)."""
    key: str = ""
    signer: str = ""

    @property
    def signed(self) -> bool:
        return self.status != UNSIGNED


def category(status: str) -> str:
    """`good`, `bad`, `unknown_key`, `expired`, `unverifiable` or `unsigned`."""
    if status == GOOD:
        return "good"
    if status in (BAD, _REVOKED):
        return "bad"
    if status in UNKNOWN_KEY:
        return "unknown_key"
    if status in EXPIRED:
        return "expired"
    if status == UNVERIFIABLE:
        return "unverifiable"
    return "unsigned"


def trust_digest(root: Path) -> str:
    """sha256 of what signature verification depends on."""
    h = hashlib.sha256()
    settings = git.run(root, "config", "--get-regexp", r"^gpg\.", check=False).stdout
    h.update(settings + b"\0")
    for key in ("gpg.ssh.allowedSignersFile", "gpg.ssh.revocationFile"):
        path = git.run(root, "config", "--type=path", key, check=False).stdout.decode().strip()
        h.update(_file_bytes(root / path if path else None) + b"\0")
    for keyring in _gpg_keyrings():
        h.update(_file_bytes(keyring) + b"\0")
    return h.hexdigest()


def _gpg_keyrings() -> list[Path]:
    gpgconf = shutil.which("gpgconf")
    if gpgconf is None:
        return []
    proc = subprocess.run([gpgconf, "--list-dirs", "homedir"], capture_output=True, check=False)
    home = Path(proc.stdout.decode("utf-8", "replace").strip())
    if proc.returncode != 0 or not home.is_dir():
        return []
    return [home / n for n in ("pubring.kbx", "pubring.gpg", "trustdb.gpg")]


def _file_bytes(path: Path | None) -> bytes:
    try:
        return path.read_bytes() if path is not None and path.is_file() else b""
    except OSError:
        return b""


def cache_path(root: Path) -> Path:
    where = Path(git.out(root, "rev-parse", "--git-path", "sdl-tracker/signature-cache.json"))
    return where if where.is_absolute() else root / where


def load_cache(path: Path, trust: str) -> dict[str, Signature]:
    """Cached results made under the same trust digest; anything unreadable is ignored."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        return {}
    if data.get("trust") != trust or not isinstance(data.get("commits"), dict):
        return {}
    cache = {}
    for commit, value in data["commits"].items():
        if isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) for v in value):
            cache[commit] = Signature(*value)
    return cache


def save_cache(path: Path, trust: str, cache: Mapping[str, Signature]) -> None:
    data = {
        "version": CACHE_VERSION,
        "trust": trust,
        "commits": {c: [s.status, s.key, s.signer] for c, s in sorted(cache.items())},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, path)


def verify_commits(root: Path, commits: Sequence[str]) -> tuple[dict[str, Signature], str]:
    """`%G?`/`%GK`/`%GS` of each commit (one `git log --no-walk --stdin`), and git's stderr."""
    if not commits:
        return {}, ""
    proc = git.run(
        root,
        "log",
        "--no-walk=unsorted",
        "--stdin",
        "--format=%x1e%H%x1f%G?%x1f%GK%x1f%GS",
        input="".join(f"{c}\n" for c in commits).encode(),
    )
    result = {}
    for record in proc.stdout.split(b"\x1e")[1:]:
        commit, status, key, signer = (
            record.rstrip(b"\n").decode("utf-8", "replace").split("\x1f", 3)
        )
        result[commit] = Signature(status, key, signer)
    unsigned = [c for c, s in result.items() if s.status == UNSIGNED]
    for commit in _carry_signature(root, unsigned):
        result[commit] = Signature(UNVERIFIABLE)
    return result, proc.stderr.decode("utf-8", "replace").strip()


def _carry_signature(root: Path, commits: Iterable[str]) -> list[str]:
    """Commits among `commits` whose object has a gpgsig header (one `git cat-file --batch`)."""
    ids = list(commits)
    if not ids:
        return []
    out = git.run(root, "cat-file", "--batch", input="".join(f"{c}\n" for c in ids).encode()).stdout
    found, pos = [], 0
    for commit in ids:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        body = out[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1
        headers = body.split(b"\n\n", 1)[0]
        if b"\ngpgsig " in headers or b"\ngpgsig-sha256 " in headers:
            found.append(commit)
    return found


def verify_tag(root: Path, tag: str) -> tuple[Signature, str]:
    """The release tag's signature (`git verify-tag`), and git's message about it."""
    kind = git.out(root, "cat-file", "-t", tag)
    if kind != "tag":
        return Signature(UNSIGNED), f"{tag} is a lightweight tag (no tag object to sign)"
    content = git.run(root, "cat-file", "tag", tag).stdout
    if not any(marker in content for marker in _SIG_MARKERS):
        return Signature(UNSIGNED), f"{tag} is an annotated tag without a signature"
    proc = git.run(root, "verify-tag", "--raw", tag, check=False)
    text = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()
    if proc.returncode == 0:
        return Signature(GOOD, _key(text)), text
    if any(hint in text for hint in _NOT_SET_UP):
        return Signature(UNVERIFIABLE), text
    if "key has expired" in text:
        # ssh-keygen: the allowed-signers entry's valid-before lies before the tag's date; it
        # then also says "No principal matched", which is not the cause.
        return Signature("Y", _key(text)), text
    if any(hint in text for hint in _UNKNOWN_KEY_HINTS):
        return Signature("U" if "No principal matched" in text else "E", _key(text)), text
    if "EXPKEYSIG" in text or "EXPSIG" in text:
        return Signature("Y", _key(text)), text
    return Signature(BAD, _key(text)), text


def _key(text: str) -> str:
    for word in text.split():
        if word.startswith("SHA256:"):
            return word
    for line in text.splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[0] == "[GNUPG:]" and parts[1].endswith("SIG"):
            return parts[2]
    return ""
