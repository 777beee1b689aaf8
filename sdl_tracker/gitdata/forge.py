"""Forge review exports: pull-request approvals that left no trace in git (no network).

Two layouts, both made from `gh api` output:

- one JSON file `{"pulls": {"12": [<review>, ...]}, "commits": {"<sha>": 12},
  "users": {"octocat": ["octo@example.com"]}}` (`commits` and `users` optional);
- a directory of `<N>.json` files, each the reviews of pull request N exactly as
  `gh api repos/O/R/pulls/N/reviews [--paginate]` prints them, with optional `commits.json`
  and `users.json` beside them.

A review is `{"user": {"login": str, "id": int?}, "state": str, "submitted_at": str?}`; other
fields are ignored. A user approves a pull request when their last decisive review
(APPROVED, CHANGES_REQUESTED or DISMISSED, in `submitted_at` order) is APPROVED.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded

_DECISIVE = {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}
_PR_FILE = re.compile(r"^(\d+)\.json$")
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


@dataclass(frozen=True)
class ForgeReviews:
    """Approvals per pull request, and what links logins and commits to git."""

    approvals: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    """PR number -> logins whose last decisive review approved it."""
    commits: Mapping[str, int] = field(default_factory=dict)
    """Commit id -> PR number, for commits git cannot link (rebase merges)."""
    users: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Login -> the e-mail addresses that person commits with (lower-case)."""
    user_ids: Mapping[str, int] = field(default_factory=dict)

    def emails(self, login: str) -> frozenset[str]:
        """Addresses known for `login`: configured ones and GitHub's noreply forms."""
        known = {e.lower() for e in self.users.get(login.lower(), ())}
        known.add(f"{login}@users.noreply.github.com".lower())
        if login.lower() in self.user_ids:
            known.add(f"{self.user_ids[login.lower()]}+{login}@users.noreply.github.com".lower())
        return frozenset(known)

    def mapped(self, login: str) -> bool:
        """True when `users` names this login's addresses (needed to prove independence)."""
        return login.lower() in self.users


def digest(path: Path) -> str:
    """sha256 over the export's file(s), for collector inputs."""
    h = hashlib.sha256()
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for f in files:
        h.update(f.name.encode() + b"\0" + _bytes(f) + b"\0")
    return h.hexdigest()


def load(path: Path) -> ForgeReviews:
    """Read an export (file or directory); InputError naming the file and JSON path."""
    if not path.exists():
        raise InputError(
            f"{path}: forge review export not found; fix [collectors.review] forge_reviews "
            "or remove it"
        )
    if path.is_dir():
        return _load_dir(path)
    data = _json(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: $: expected an object with a 'pulls' key")
    pulls = data.get("pulls")
    if not isinstance(pulls, dict):
        raise InputError(f"{path}: $.pulls: expected an object mapping PR numbers to reviews")
    approvals = {}
    for key, reviews in pulls.items():
        if not str(key).isdigit():
            raise InputError(f"{path}: $.pulls.{key}: expected a pull request number as key")
        approvals[int(key)] = _approvers(reviews, path, f"$.pulls.{key}")
    ids: dict[str, int] = {}
    for reviews in pulls.values():
        ids.update(_ids(reviews))
    return ForgeReviews(
        approvals=approvals,
        commits=_commits(data.get("commits", {}), path, "$.commits"),
        users=_users(data.get("users", {}), path, "$.users"),
        user_ids=ids,
    )


def _load_dir(path: Path) -> ForgeReviews:
    approvals: dict[int, tuple[str, ...]] = {}
    ids: dict[str, int] = {}
    for f in sorted(path.iterdir()):
        m = _PR_FILE.match(f.name)
        if m:
            reviews = _json(f)
            approvals[int(m.group(1))] = _approvers(reviews, f, "$")
            ids.update(_ids(reviews))
    users: dict[str, tuple[str, ...]] = {}
    if (path / "users.json").is_file():
        users = _users(_json(path / "users.json"), path / "users.json", "$")
    commits = {}
    if (path / "commits.json").is_file():
        commits = _commits(_json(path / "commits.json"), path / "commits.json", "$")
    return ForgeReviews(approvals=approvals, commits=commits, users=users, user_ids=ids)


def _bytes(path: Path) -> bytes:
    try:
        return bounded.read(path, "report")
    except bounded.LimitError:
        raise
    except InputError as e:
        raise InputError(f"{e} (the forge review export)") from e


def _json(path: Path) -> Any:
    """One JSON value; `gh api --paginate` prints one array per page, so arrays are joined."""
    text = _bytes(path).decode("utf-8", "replace")
    decoder = json.JSONDecoder()
    values, pos = [], 0
    try:
        while pos < len(text.rstrip()):
            value, end = decoder.raw_decode(text, pos)
            values.append(value)
            pos = len(text) - len(text[end:].lstrip())
    except json.JSONDecodeError as e:
        raise InputError(
            f"{path}: line {e.lineno} column {e.colno}: not valid JSON ({e.msg}); "
            "export it again with `gh api ... > FILE`"
        ) from e
    except RecursionError as e:
        raise bounded.too_deep(str(path), bounded.current().depth) from e
    bounded.check_depth(values, str(path))
    if len(values) > 1 and all(isinstance(v, list) for v in values):
        return [item for v in values for item in v]
    if len(values) != 1:
        raise InputError(f"{path}: expected one JSON value, found {len(values)}")
    return values[0]


def _reviews(reviews: Any, path: Path, where: str) -> list[tuple[str, str, str, int]]:
    if not isinstance(reviews, list):
        raise InputError(f"{path}: {where}: expected a list of reviews (gh api .../reviews)")
    result = []
    for i, review in enumerate(reviews):
        at = f"{where}[{i}]"
        user = review.get("user") if isinstance(review, dict) else None
        login = user.get("login") if isinstance(user, dict) else None
        if not isinstance(login, str) or not login:
            raise InputError(f"{path}: {at}.user.login: expected the reviewer's login (a string)")
        state = review.get("state")
        if not isinstance(state, str):
            raise InputError(f"{path}: {at}.state: expected a string such as 'APPROVED'")
        when = review.get("submitted_at") or ""
        if not isinstance(when, str):
            raise InputError(f"{path}: {at}.submitted_at: expected an ISO 8601 time string")
        result.append((when, login, state.upper(), i))
    return result


def _approvers(reviews: Any, path: Path, where: str) -> tuple[str, ...]:
    last: dict[str, str] = {}
    for _, login, state, _ in sorted(_reviews(reviews, path, where), key=lambda r: (r[0], r[3])):
        if state in _DECISIVE:
            last[login] = state
    return tuple(sorted(login for login, state in last.items() if state == "APPROVED"))


def _ids(reviews: list[Any]) -> dict[str, int]:
    ids = {}
    for review in reviews:
        user = review["user"]
        if isinstance(user.get("id"), int):
            ids[str(user["login"]).lower()] = user["id"]
    return ids


def _users(data: Any, path: Path, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(data, dict):
        raise InputError(f"{path}: {where}: expected an object mapping logins to e-mail lists")
    users = {}
    for login, emails in data.items():
        if isinstance(emails, str):
            emails = [emails]
        if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
            raise InputError(
                f"{path}: {where}.{login}: expected an e-mail address or a list of them"
            )
        users[str(login).lower()] = tuple(e.lower() for e in emails)
    return users


def _commits(data: Any, path: Path, where: str) -> dict[str, int]:
    if not isinstance(data, dict):
        raise InputError(f"{path}: {where}: expected an object mapping commit ids to PR numbers")
    commits = {}
    for sha, number in data.items():
        if not _SHA.match(str(sha)):
            raise InputError(f"{path}: {where}: {sha!r} is not a full commit id (40 hex digits)")
        if not isinstance(number, int) or isinstance(number, bool):
            raise InputError(f"{path}: {where}.{sha}: expected a pull request number")
        commits[str(sha)] = number
    return commits
