"""documents: the written part of the process — present, complete, and reviewed when changed.

For each configured document: is it in the tree, does it have the required sections (Markdown
or reStructuredText headings containing the words, case-insensitive), when did it last change
(git), and was that change reviewed (a reviewer trailer naming someone other than the author,
or a pull-request merge) — the review trail SG-7 asks for.

Defaults cover the usual files; `[collectors.documents.<name>]` overrides `path`, `sections`
and `requirements`, or adds a document. A default document that is absent yields no evidence
(the policy reports it *missing*); a configured path that is absent yields `fail`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdl_tracker import __version__
from sdl_tracker.collectors.base import Context, Evidence
from sdl_tracker.errors import InputError
from sdl_tracker.gitdata import git, history, reviews
from sdl_tracker.models import Result, ResultStatus, Tool

NAME = "documents"
PROVIDES = (
    "SM-1",
    "SM-2",
    "SM-8",
    "SR-1",
    "SR-3",
    "SR-4",
    "SD-1",
    "SD-2",
    "SD-4",
    "SI-2",
    "SVV-1",
    "DM-1",
    "DM-5",
    "SUM-4",
    "SUM-5",
) + tuple(f"SG-{n}" for n in range(1, 8))
_TOOL = Tool(name="sdl-tracker documents", version=__version__)


@dataclass(frozen=True)
class DocSpec:
    name: str
    """Evidence kind: `document:<name>` or one of `process_doc`, `codeowners`."""
    paths: tuple[str, ...]
    sections: tuple[str, ...]
    requirements: tuple[str, ...]
    configured: bool = False


DEFAULTS = (
    DocSpec(
        "document:vulnerability_disclosure_policy",
        ("SECURITY.md", ".github/SECURITY.md", "docs/SECURITY.md"),
        ("report", "disclosure"),
        ("DM-1", "DM-5"),
    ),
    DocSpec("process_doc", ("docs/sdl-process.md", "docs/process.md"), (), ("SM-1",)),
    DocSpec("document:roles_responsibilities", ("docs/roles.md",), ("role",), ("SM-2",)),
    DocSpec("codeowners", ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS"), (), ("SM-2",)),
    DocSpec("document:coding_standard", ("docs/coding-standard.md",), (), ("SI-2",)),
    DocSpec("document:key_management_procedure", ("docs/key-management.md",), (), ("SM-8",)),
    DocSpec("document:security_context", ("docs/security-context.md",), (), ("SR-1",)),
    DocSpec(
        "document:security_requirements",
        ("security-requirements.yaml", "docs/security-requirements.md"),
        (),
        ("SR-3", "SR-4"),
    ),
    DocSpec(
        "document:security_architecture",
        ("docs/security-architecture.md", "docs/architecture.md"),
        (),
        ("SD-1", "SD-2"),
    ),
    DocSpec("document:secure_design_guidelines", ("docs/secure-design.md",), (), ("SD-4",)),
    DocSpec("document:test_plan", ("docs/test-plan.md",), (), ("SVV-1",)),
    DocSpec("document:defense_in_depth_guide", ("docs/defense-in-depth.md",), (), ("SG-1",)),
    DocSpec("document:environment_requirements", ("docs/environment.md",), (), ("SG-2",)),
    DocSpec("document:hardening_guide", ("docs/hardening.md",), (), ("SG-3",)),
    DocSpec("document:disposal_guide", ("docs/disposal.md",), (), ("SG-4",)),
    DocSpec("document:operation_guide", ("docs/secure-operation.md",), (), ("SG-5",)),
    DocSpec("document:account_management_guide", ("docs/account-management.md",), (), ("SG-6",)),
    DocSpec("document:patch_policy", ("docs/patch-policy.md",), (), ("SUM-5",)),
    DocSpec("document:support_policy", ("docs/support-policy.md",), (), ("SUM-4",)),
    # The versioned pipeline and linter rules: the technical side of SM-7 and SI-2.
    DocSpec(
        "ci_config",
        (".github/workflows/ci.yml", ".gitlab-ci.yml", ".ci/run", "Jenkinsfile"),
        (),
        ("SM-7",),
    ),
    DocSpec(
        "linter_config",
        (".pre-commit-config.yaml", "ruff.toml", ".ruff.toml", ".flake8", ".pylintrc", ".bandit"),
        (),
        ("SI-2",),
    ),
)


def specs(config: Mapping[str, Any]) -> list[DocSpec]:
    """The defaults, overridden or extended by `[collectors.documents.<name>]` tables."""
    by_name = {s.name.removeprefix("document:"): s for s in DEFAULTS}
    for key, table in config.items():
        if key == "max_age_hours":
            continue
        if not isinstance(table, dict):
            raise InputError(
                f"[collectors.documents.{key}] must be a table with path, sections, "
                f"requirements; got {table!r}"
            )
        base = by_name.get(key)
        name = (
            base.name
            if base
            else (key if key in ("process_doc", "codeowners") else f"document:{key}")
        )
        path = table.get("path")
        by_name[key] = DocSpec(
            name=name,
            paths=(_str(path, key, "path"),) if path is not None else (base.paths if base else ()),
            sections=_strs(table.get("sections"), key, "sections", base.sections if base else ()),
            requirements=_strs(
                table.get("requirements"), key, "requirements", base.requirements if base else ()
            ),
            configured=path is not None,
        )
        if not by_name[key].paths:
            raise InputError(f"[collectors.documents.{key}]: `path` is required for a new document")
    return list(by_name.values())


def _str(value: object, key: str, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise InputError(f"[collectors.documents.{key}] {field}: expected a path, got {value!r}")
    return value


def _strs(value: object, key: str, field: str, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(
            f"[collectors.documents.{key}] {field}: expected a list of strings, got {value!r}"
        )
    return tuple(value)


def _locate(root: Path, spec: DocSpec) -> str | None:
    return next((p for p in spec.paths if (root / p).is_file()), None)


def not_found(ctx: Context) -> tuple[str, ...]:
    """What it looked for and did not find (printed by `collect`; the policy reports them)."""
    absent = [s for s in specs(ctx.config) if not s.configured and _locate(ctx.root, s) is None]
    if not absent:
        return ()
    listed = "; ".join(f"{' or '.join(s.paths)} ({', '.join(s.requirements)})" for s in absent)
    return (
        f"{len(absent)} documents not found in {ctx.root}: {listed}; write them there, or point "
        "[collectors.documents.<name>] path at yours (docs/collectors/documents.md)",
    )


def inputs(ctx: Context) -> Mapping[str, str]:
    found = [p for s in specs(ctx.config) if (p := _locate(ctx.root, s))]
    ids = git.tree_ids(ctx.root, ctx.commit, found)
    return {f"blob:{p}": ids.get(p, "untracked") for p in found}


def collect(ctx: Context) -> Iterator[Evidence]:
    for spec in specs(ctx.config):
        path = _locate(ctx.root, spec)
        if path is None:
            if spec.configured:
                yield _absent(spec)
            continue
        yield _check(ctx, spec, path)


def _absent(spec: DocSpec) -> Evidence:
    return Evidence(
        kind=spec.name,
        tool=_TOOL,
        requirements=spec.requirements,
        result=Result(
            ResultStatus.FAIL,
            f"{spec.paths[0]} not found: write it, or fix `path` in "
            f"[collectors.documents.{spec.name.removeprefix('document:')}]",
            {"present": 0},
        ),
        covers=spec.paths,
    )


def _check(ctx: Context, spec: DocSpec, path: str) -> Evidence:
    data = (ctx.root / path).read_bytes()
    text = data.decode("utf-8", "replace")
    headings = _headings(text)
    missing = [s for s in spec.sections if not any(s.lower() in h for h in headings)]
    last = _last_change(ctx.root, path)
    reviewed = last is not None and last.reviewed
    problems = []
    if missing:
        problems.append(f"missing section(s): {', '.join(missing)}")
    if last is None:
        problems.append("not committed")
    elif not reviewed:
        problems.append(f"last change {last.commit[:10]} has no independent review record")
    status = ResultStatus.FAIL if problems else ResultStatus.PASS
    summary = f"{path}: " + ("; ".join(problems) if problems else "present, complete, reviewed")
    age_days = (ctx.now - last.when).days if last else 0
    return Evidence(
        kind=spec.name,
        tool=_TOOL,
        requirements=spec.requirements,
        result=Result(
            status,
            summary,
            {
                "present": 1,
                "sections_required": len(spec.sections),
                "sections_found": len(spec.sections) - len(missing),
                "reviewed": int(reviewed),
                "age_days": age_days,
            },
        ),
        covers=(path,),
        artifacts=((Path(path).name, data),),
        details={
            "path": path,
            "missing_sections": list(missing),
            "last_commit": last.commit if last else None,
            "last_author": last.author if last else None,
            "reviewers": list(last.reviewers) if last else [],
        },
    )


def _headings(text: str) -> list[str]:
    lines = text.splitlines()
    found = [ln.lstrip("#").strip().lower() for ln in lines if ln.startswith("#")]
    for above, below in zip(lines, lines[1:]):
        if above.strip() and len(set(below.strip())) == 1 and below.strip()[:1] in "=-~^":
            found.append(above.strip().lower())
    return found


@dataclass(frozen=True)
class _Change:
    commit: str
    author: str
    when: Any
    reviewers: tuple[str, ...]
    reviewed: bool


def _last_change(root: Path, path: str) -> _Change | None:
    """The commit that last changed `path`, judged by the review collector's definitions.

    Reviewed: a reviewer trailer naming someone other than the author and every co-author
    (after `.mailmap`), or brought in by a pull/merge request (squash-merged, or case a).
    """
    from datetime import datetime

    commit = git.out(root, "log", "-1", "--format=%H", "--", path)
    if not commit:
        return None
    parents = git.out(root, "rev-parse", f"{commit}^@").split()
    rng = history.Range(
        head=commit, base=parents[0] if parents else None, base_ref=None, how="since"
    )
    (c,) = [c for c in history.read(root, rng) if c.id == commit]
    values = {v for k, v in c.trailers if k in reviews.REVIEW_KEYS or k == "co-authored-by"}
    (judged,) = reviews.classify([c], history.mailmap(root, values), reviews.Settings())
    when = git.out(root, "log", "-1", "--format=%cI", commit)
    reviewers = tuple(v for k, v in c.trailers if k in reviews.REVIEW_KEYS)
    return _Change(
        commit=commit,
        author=c.author_email,
        when=datetime.fromisoformat(when),
        reviewers=reviewers,
        reviewed=judged.independent or judged.pr_merged or _merged_by_pr(root, c),
    )


def _merged_by_pr(root: Path, commit: history.Commit) -> bool:
    """Case (a): the first merge on the way to HEAD names a pull/merge request (which counts as
    a review, relying on the forge's branch protection, as `pr_merge_counts_as_review`)."""
    out = git.run(
        root,
        "log",
        "--merges",
        "--ancestry-path",
        "--reverse",
        "--format=%H%x1f%aE%x1f%s%x1f%b%x1e",
        f"{commit.id}..HEAD",
        check=False,
    ).stdout.decode("utf-8", "replace")
    record = out.split("\x1e", 1)[0]
    if not record.strip():
        return False
    merge_id, author, subject, body = record.strip("\n").split("\x1f", 3)
    merge = history.Commit(
        id=merge_id,
        parents=(),
        author_name="",
        author_email=author.lower(),
        committer_email="",
        trailers=(),
        subject=subject,
        body=body,
        paths=(),
    )
    return reviews.merge_request(merge) is not None


__all__: Sequence[str] = ("NAME", "PROVIDES", "collect", "inputs")
