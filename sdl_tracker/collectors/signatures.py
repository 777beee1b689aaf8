"""signatures: commit and release-tag signatures (GPG and SSH) as git verifies them.

Every commit of the range (the one `review` uses, merges included: a merge can change files
too) is checked with `%G?`/`%GK`/`%GS`; results are cached by commit id (see
`gitdata.signing`). The release tag (`--release TAG`, else a tag matching `tag_pattern` at
HEAD) is checked with `git verify-tag` and gets its own `signed_tag` evidence.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence

from sdl_tracker.collectors.base import Context, Evidence
from sdl_tracker.collectors.tables import Table
from sdl_tracker.errors import InputError
from sdl_tracker.gitdata import git, history, signing
from sdl_tracker.gitdata.history import Range
from sdl_tracker.gitdata.signing import Signature
from sdl_tracker.models import JSON, Result, ResultStatus, Tool

NAME = "signatures"
PROVIDES = ("SM-6", "SM-7")
#: Signed commits show the development environment is controlled (SM-7); file integrity (SM-6)
#: is shown by the signed release tag.
COMMIT_REQUIREMENTS = ("SM-7",)
TAG_REQUIREMENTS = ("SM-6", "SUM-4")
_KEYS = ("tag_pattern", "cache")
_CATEGORIES = ("good", "bad", "unknown_key", "expired", "unverifiable")
_SETUP_HINT = (
    "let git verify them: set gpg.ssh.allowedSignersFile (SSH) or import the signers' keys "
    "(GPG), then collect again"
)


def _table(ctx: Context) -> Table:
    return Table(NAME, ctx.config, _KEYS)


def _range(ctx: Context) -> Range:
    return history.commit_range(
        ctx.root,
        ctx.commit,
        since=ctx.options.get("since") or None,
        all_history=bool(ctx.options.get("all")),
        tag_pattern=_table(ctx).string("tag_pattern", "v*"),
    )


def release_tag(ctx: Context) -> str | None:
    """`--release TAG` (InputError if it is no tag), else the newest matching tag at HEAD."""
    wanted = ctx.options.get("release")
    if wanted:
        proc = git.run(
            ctx.root, "rev-parse", "--verify", "--quiet", f"refs/tags/{wanted}", check=False
        )
        if proc.returncode != 0:
            raise InputError(
                f"--release {wanted!r}: no such tag in {ctx.root}; create it "
                f"(git tag -s {wanted}) or name an existing one (git tag --list)"
            )
        return wanted
    pattern = _table(ctx).string("tag_pattern", "v*")
    tags = git.out(
        ctx.root, "tag", "--points-at", ctx.commit, "--list", pattern, "--sort=-v:refname"
    ).split()
    return tags[0] if tags else None


def inputs(ctx: Context) -> Mapping[str, str]:
    rng = _range(ctx)
    result = {
        "range": f"{rng.base or ''}..{rng.head}",
        "trust": signing.trust_digest(ctx.root),
        "config": hashlib.sha256(
            json.dumps(dict(ctx.config), sort_keys=True, default=str).encode()
        ).hexdigest(),
    }
    tag = release_tag(ctx)
    if tag:
        result[f"tag:{tag}"] = git.out(ctx.root, "rev-parse", f"refs/tags/{tag}")
    return result


def collect(ctx: Context) -> Iterator[Evidence]:
    use_cache = _table(ctx).boolean("cache", True)
    tag = release_tag(ctx)
    rng = _range(ctx)
    commits = git.out(ctx.root, "rev-list", *rng.args()).split()
    trust = signing.trust_digest(ctx.root)
    path = signing.cache_path(ctx.root)
    cache = signing.load_cache(path, trust) if use_cache else {}
    fresh, stderr = signing.verify_commits(ctx.root, [c for c in commits if c not in cache])
    if use_cache and fresh:
        signing.save_cache(path, trust, {**cache, **fresh})
    found = {c: fresh.get(c) or cache[c] for c in commits}
    tool = Tool("git", git.out(ctx.root, "--version").removeprefix("git version "))
    tag_result = signing.verify_tag(ctx.root, tag) if tag else None
    cut = history.shallow_cut(ctx.root, commits)
    yield _commit_evidence(
        rng, found, tag, tag_result, stderr, tool, len(commits) - len(fresh), cut
    )
    if tag and tag_result:
        yield _tag_evidence(tag, *tag_result, tool)


def _commit_evidence(
    rng: Range,
    found: Mapping[str, Signature],
    tag: str | None,
    tag_result: tuple[Signature, str] | None,
    stderr: str,
    tool: Tool,
    cached: int,
    cut: Sequence[str] = (),
) -> Evidence:
    counts = Counter(signing.category(s.status) for s in found.values())
    metrics = {"commits": len(found), "signed": sum(s.signed for s in found.values())}
    metrics.update({name: counts[name] for name in _CATEGORIES})
    tag_sig = tag_result[0] if tag_result else None
    metrics["tag_signed"] = int(tag_sig is not None and tag_sig.signed)
    metrics["tag_good"] = int(tag_sig is not None and tag_sig.status == signing.GOOD)
    summary = (
        f"{metrics['good']} of {metrics['commits']} commits carry a good signature "
        f"({metrics['signed']} signed, {metrics['bad']} bad, {metrics['unknown_key']} unknown key) "
        f"in {rng.describe()}"
    )
    summary += f"; release tag {tag}: {_tag_words(tag_sig)}" if tag and tag_sig else ""
    if cut:
        status = ResultStatus.INCOMPLETE
        summary += f"; {history.SHALLOW_HINT}"
    elif metrics["unverifiable"]:
        status = ResultStatus.INCOMPLETE
        summary += f"; {metrics['unverifiable']} signatures could not be checked: {_SETUP_HINT}"
    elif not found:
        status = ResultStatus.INFO
    elif metrics["good"] == metrics["commits"]:
        status = ResultStatus.PASS
    else:
        status = ResultStatus.FAIL
    report: dict[str, JSON] = {
        "range": {"base": rng.base, "base_ref": rng.base_ref, "head": rng.head, "how": rng.how},
        "metrics": dict(metrics),
        "cached": cached,
        "git_stderr": stderr[:4000],
        "commits": [
            {
                "id": c,
                "status": s.status,
                "category": signing.category(s.status),
                "key": s.key,
                "signer": s.signer,
            }
            for c, s in found.items()
        ],
    }
    return Evidence(
        kind="signed_commit",
        tool=tool,
        requirements=COMMIT_REQUIREMENTS,
        result=Result(status, summary, metrics),
        covers=(".",),
        artifacts=(
            ("signatures.json", json.dumps(report, sort_keys=True, separators=(",", ":")).encode()),
        ),
        details={"release_tag": tag},
    )


def _tag_words(sig: Signature | None) -> str:
    if sig is None or not sig.signed:
        return "not signed"
    return {"good": "good signature", "bad": "BAD signature"}.get(
        signing.category(sig.status), f"signed, {signing.category(sig.status).replace('_', ' ')}"
    )


def _tag_evidence(tag: str, sig: Signature, message: str, tool: Tool) -> Evidence:
    category = signing.category(sig.status)
    if category == "unverifiable":
        status, summary = ResultStatus.INCOMPLETE, f"{tag}: signature not checked: {_SETUP_HINT}"
    else:
        status = ResultStatus.PASS if category == "good" else ResultStatus.FAIL
        summary = f"release tag {tag}: {_tag_words(sig)}" + (f" ({sig.key})" if sig.key else "")
    report = {
        "tag": tag,
        "status": sig.status,
        "category": category,
        "key": sig.key,
        "git_output": message,
    }
    return Evidence(
        kind="signed_tag",
        tool=tool,
        requirements=TAG_REQUIREMENTS,
        result=Result(
            status, summary, {"signed": int(sig.signed), "good": int(category == "good")}
        ),
        covers=(".",),
        artifacts=(("signed-tag.json", json.dumps(report, sort_keys=True, indent=1).encode()),),
        details={"release_tag": tag},
    )
