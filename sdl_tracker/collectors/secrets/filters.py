"""detect-secrets filters for strings that are known not to be secrets, added to its own.

detect-secrets calls a filter with the arguments its signature names (`filename`, `line`,
`secret`) and drops the candidate when it returns True. These drop only strings whose place says
what they are: a commit pinned by `rev:` in a pre-commit config or by `@` in a CI `uses:`, a git
object id as a lock file's revision, a digest after its algorithm (`--hash=sha256:…`, SRI
`sha384-…`), lock files detect-secrets does not know yet, and a keyword whose value is the
keyword's own name (`secret_key = "secret_key"`, `password: password`: a placeholder anyone reads
off the line, no secret). A high-entropy string anywhere else is still reported.
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

#: `NAME = "`, `NAME: `, `"NAME": "`, `NAME=`, `NAME := '`, `NAME => "`: a name, its
#: operator and an opening quote, as detect-secrets' keyword plugin reads an assignment.
_ASSIGNMENT = r"""([A-Za-z_][\w.-]*)["']?\s*(?::=|=>|==|=|:)\s*["']?"""
_KEYWORD_PLUGIN = "Secret Keyword"

PATHS = (
    "sdl_tracker.collectors.secrets.filters.is_unlisted_lock_file",
    "sdl_tracker.collectors.secrets.filters.is_pin_or_digest",
    "sdl_tracker.collectors.secrets.filters.is_keyword_itself",
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


def is_keyword_itself(filename: str, line: str, secret: str, plugin: object) -> bool:
    """A keyword assigned its own name (`secret_key = "secret_key"`, `API_KEY=api-key`): the
    names compared without case, `-`, `_` or `.` (an attribute's last part for `self.x`).

    detect-secrets' keyword plugin reports only the first assignment of a line, so the rest of
    the line is searched again: a placeholder never hides a real secret after it."""
    if getattr(plugin, "secret_type", None) != _KEYWORD_PLUGIN:
        return False
    rest, candidate = line, secret
    while True:
        end = _placeholder_end(rest, candidate)
        if end is None:
            return False
        rest = rest[end:]
        found = [p.secret_value for p in plugin.analyze_line(filename=filename, line=rest)]  # type: ignore[attr-defined]
        if not found or found[0] is None:
            return True
        candidate = found[0]


def _placeholder_end(line: str, secret: str) -> int | None:
    """Where the first assignment of `secret` to a name that is `secret` itself ends."""
    bare = _bare(secret)
    if not bare:
        return None
    pattern = _ASSIGNMENT + re.escape(secret) + r"""(?=["'\s,;)}\]]|$)"""
    for m in re.finditer(pattern, line):
        if _bare(m.group(1).rsplit(".", 1)[-1]) == bare:
            return m.end()
    return None


def _bare(name: str) -> str:
    return re.sub(r"[-_.\s]", "", name).lower()
