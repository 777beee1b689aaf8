"""detect-secrets filters for strings that are known not to be secrets, added to its own.

detect-secrets calls a filter with the arguments its signature names (`filename`, `line`,
`secret`) and drops the candidate when it returns True. These drop only strings whose place says
what they are: a commit pinned by `rev:` in a pre-commit config or by `@` in a CI `uses:`, a git
object id as a lock file's revision, a digest after its algorithm (`--hash=sha256:…`, SRI
`sha384-…`), and lock files detect-secrets does not know yet. A high-entropy string anywhere else
is still reported.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re

LOCK_FILES = ("uv.lock", "pdm.lock", "pylock.toml", "pylock.*.toml", "pnpm-lock.yaml")
_HEX_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_ALGORITHMS = r"(?:sha1|sha224|sha256|sha384|sha512|sha3-256|sha3-512|blake2b|md5)"
#: What precedes a git object id in pins and locks: `rev: `, `uses: owner/repo@`, `#`,
#: `commit = "`, `commit-id = "`, `revision: `, `resolved_reference = "`.
_ID_PLACES = (
    r"(?:\brev(?:ision)?|\bcommit(?:[-_]id)?|\bresolved[-_]reference|\bref)\s*[:=]\s*[\"']?|[@#]"
)

PATHS = (
    "sdl_tracker.collectors.secrets.filters.is_unlisted_lock_file",
    "sdl_tracker.collectors.secrets.filters.is_pin_or_digest",
)


def is_unlisted_lock_file(filename: str) -> bool:
    """Lock files (all hashes and versions) detect-secrets' own `is_lock_file` does not list."""
    name = posixpath.basename(filename.replace("\\", "/"))
    return any(fnmatch.fnmatch(name, pattern) for pattern in LOCK_FILES)


def is_pin_or_digest(line: str, secret: str) -> bool:
    """A git object id where pins put one, or a digest right after its algorithm's name."""
    quoted = re.escape(secret)
    if _HEX_ID.fullmatch(secret) and re.search(f"(?:{_ID_PLACES}){quoted}", line):
        return True
    if re.match(f"{_ALGORITHMS}-[A-Za-z0-9+/]{{20,}}", secret, re.IGNORECASE):
        return True  # an SRI digest read whole as one base64-like string (its quote may follow)
    return re.search(f"{_ALGORITHMS}[:=-]{quoted}", line, re.IGNORECASE) is not None
