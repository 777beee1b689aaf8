"""documents: the written part of the process — present, complete, and reviewed when changed.

For each configured document: is it in the tree, does it have the sections the catalogue requires
of its kind (Markdown or reStructuredText headings, or YAML keys, containing the words,
case-insensitive; a leading front matter block and fenced code are not headings), when did it
last change (git: the commit, its date, and whether a reviewed change touched it since the
previous release), and was that change reviewed (a reviewer trailer naming someone other than the
author, or a pull-request merge) — the review trail SG-7 asks for. How old a document may be is
judged from that change and the kind's cadence, never from when the evidence was recorded.

Defaults cover the usual files; `[collectors.documents.<name>]` overrides `path`, `sections`
and `requirements`, or adds a document. A default document that is absent yields no evidence
(the policy reports it *missing*); a configured path that is absent yields `fail`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sdl_tracker import __version__
from sdl_tracker.collectors.base import Context, Evidence
from sdl_tracker.errors import InputError
from sdl_tracker.gitdata import git, history, reviews
from sdl_tracker.models import JSON, Result, ResultStatus, Tool
from sdl_tracker.policy import catalog
from sdl_tracker.policy.catalog import Section

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
    "SUM-2",
    "SUM-3",
    "SUM-4",
    "SUM-5",
) + tuple(f"SG-{n}" for n in range(1, 8))
_TOOL = Tool(name="sdl-tracker documents", version=__version__)
_KEYS = ("max_age_hours", "tag_pattern")
#: Bumped when what the collector checks changes, so that `collect` runs it again.
_RULES = "sections+cadence"
#: A requirement id in a heading: the section is that requirement's procedure (maturity ML2).
_REQUIREMENT_ID = re.compile(r"\b(?:SM|SR|SD|SI|SVV|DM|SUM|SG)-\d{1,2}\b")
#: In every skeleton `init --templates` writes; a document still holding it was not written yet.
TEMPLATE_MARK = "replace each guidance line with your own text, then delete this comment"


@dataclass(frozen=True)
class DocSpec:
    name: str
    """Evidence kind: `document:<name>` or one of `process_doc`, `codeowners`."""
    paths: tuple[str, ...]
    sections: tuple[str, ...]
    """Extra headings (configured); the catalogue's sections for the kind always apply."""
    requirements: tuple[str, ...]
    configured: bool = False

    def required(self) -> tuple[Section, ...]:
        """The sections every shipped catalogue requires of this kind (each names the
        requirements that need it: IEC 62443-4-1's, then the CRA's), then the configured ones."""
        found: dict[str, Section] = {}
        for cid in catalog.shipped():
            kind = catalog.load(cid).documents.get(self.name)
            for s in kind.sections if kind else ():
                found.setdefault(s.heading, s)
        own = tuple(
            Section(heading=s, match=(s.lower(),), requirements=self.requirements, guidance="")
            for s in self.sections
        )
        return tuple(found.values()) + own


DEFAULTS = (
    DocSpec(
        "document:vulnerability_disclosure_policy",
        ("SECURITY.md", ".github/SECURITY.md", "docs/SECURITY.md"),
        (),
        ("DM-1", "DM-5"),
    ),
    DocSpec("process_doc", ("docs/sdl-process.md", "docs/process.md"), (), ("SM-1",)),
    DocSpec("document:roles_responsibilities", ("docs/roles.md",), (), ("SM-2",)),
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
    # The user information the EU Cyber Resilience Act asks for (Annex II; `--framework cra`).
    DocSpec("document:user_manual", ("docs/user-information.md",), (), ("CRA-13-18",)),
    DocSpec(
        "document:support_policy", ("docs/support-policy.md",), (), ("SUM-2", "SUM-3", "SUM-4")
    ),
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
        if key in _KEYS:
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


def _all_cra(requirements: Sequence[str]) -> bool:
    return all(r.startswith("CRA-") for r in requirements)


def template_path(spec: DocSpec) -> str | None:
    """Where `init --templates` writes the skeleton: the first Markdown path (None: not prose)."""
    return next((p for p in spec.paths if p.endswith(".md")), None)


#: Machine-readable front matter a kind's skeleton starts with (read by a collector).
_FRONT = {
    "document:security_requirements": (
        "---",
        "# SR-4: the capability security level of each zone (trust boundary id) and external",
        "# interface (data flow id) of the threat model: a level 1-4 (SL-C) or {sl_c: N, sl_t: N},",
        "# e.g. TB-1: {sl_c: 2, sl_t: 2}. Read by `sdl-tracker collect --only threat-model`.",
        "security_levels: {}",
        "---",
    ),
}


def skeleton(spec: DocSpec) -> str:
    """A Markdown skeleton with the headings the kind requires and one line of guidance each."""
    cat = catalog.load()
    kind = cat.documents.get(spec.name)
    title = spec.name.removeprefix("document:").replace("_", " ").capitalize()
    if spec.name == "process_doc":
        title = "Secure development process"
    cadence = {
        "per_release": "Review it for every release",
        "annual": "Review it at least once a year",
        "on_change": "Have every change reviewed",
    }[kind.cadence if kind else "annual"]
    lines = [
        *_FRONT.get(spec.name, ()),
        f"# {title}",
        "",
        f"<!-- {spec.name} for {', '.join(spec.requirements)}: {TEMPLATE_MARK}. {cadence}, "
        "committing the change with a reviewer (a Reviewed-by: trailer naming someone else, "
        "or a merged pull request). -->",
        "",
        cat.evidence_kinds.get(spec.name, ""),
    ]
    for section in spec.required():
        lines += ["", f"## {section.heading}", "", section.guidance or "Write this section."]
    return "\n".join(lines) + "\n"


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
    release = _previous_release(ctx)
    return {
        "rules": _RULES,
        "release:previous": f"{release[0]} {release[1]}" if release else "none",
        **{f"blob:{p}": ids.get(p, "untracked") for p in found},
    }


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


def _read(root: Path, path: str) -> bytes:
    """The document's bytes; never a file outside the repository (a committed symlink would
    otherwise carry, say, ~/.ssh/id_rsa into the ledger's artifacts) and never a non-file."""
    real = Path(os.path.realpath(root / path))
    if not real.is_relative_to(Path(os.path.realpath(root))):
        raise InputError(
            f"{path}: a symlink to {real}, outside the repository: documents are read only "
            "from the repository; commit the document itself, or point "
            "[collectors.documents.<name>] path at a file in the repository"
        )
    if not real.is_file():
        raise InputError(f"{path}: not a regular file ({real}); a document is a text file")
    try:
        return real.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from e


def _check(ctx: Context, spec: DocSpec, path: str) -> Evidence:
    data = _read(ctx.root, path)
    text = data.decode("utf-8", "replace")
    headings, unreadable = _headings(text, path)
    sections = spec.required()
    missing = [s for s in sections if not s.found_in(headings)]
    last = _last_change(ctx.root, path)
    reviewed = last is not None and last.reviewed
    problems = [unreadable] if unreadable else []
    if TEMPLATE_MARK in text:
        problems.append("still the unedited skeleton of `init --templates`")
    if last is None:
        problems.append("not committed")
    elif not reviewed:
        problems.append(f"last change {last.commit[:10]} has no independent review record")
    found_ids = {m for h in headings for m in _REQUIREMENT_ID.findall(h.upper())}
    procedures: list[str] = sorted(found_ids, key=_id_order)
    release = _previous_release(ctx)
    since = last is not None and release is not None and _after(ctx.root, last.commit, release[1])
    # A section only the EU CRA view needs (its catalogue's, e.g. Annex II) is judged by that
    # view per item; missing, it is named here but does not fail the document for IEC 62443-4-1.
    cra_only = [s for s in missing if s.requirements and _all_cra(s.requirements)]
    notes = list(problems)
    if len(cra_only) < len(missing):
        notes.append(
            "missing section(s): " + ", ".join(_named(s) for s in missing if s not in cra_only)
        )
    status = ResultStatus.FAIL if notes else ResultStatus.PASS
    summary = f"{path}: " + ("; ".join(notes) if notes else "present, complete, reviewed")
    if cra_only:
        summary += "; for the EU CRA view, missing section(s): " + ", ".join(
            _named(s) for s in cra_only
        )
    age_days = (ctx.now - last.when).days if last else 0
    details: dict[str, JSON] = {
        "path": path,
        "missing_sections": [s.heading for s in missing],
        "sections": [
            {"heading": s.heading, "requirements": list(s.requirements), "found": s not in missing}
            for s in sections
        ],
        "problems": list(problems),
        "procedures": list(procedures),
        "last_commit": last.commit if last else None,
        "changed_at": last.when.isoformat() if last else None,
        "last_author": last.author if last else None,
        "reviewers": list(last.reviewers) if last else [],
        "release_tags": _pattern(ctx),
        "previous_release": (
            {"tag": release[0], "commit": release[1], "changed_since": since} if release else None
        ),
    }
    return Evidence(
        kind=spec.name,
        tool=_TOOL,
        requirements=spec.requirements,
        result=Result(
            status,
            summary,
            {
                "present": 1,
                "sections_required": len(sections),
                "sections_found": len(sections) - len(missing),
                "reviewed": int(reviewed),
                "age_days": age_days,
            },
        ),
        covers=(path,),
        artifacts=((Path(path).name, data),),
        details=details,
    )


def _id_order(rid: str) -> tuple[str, int]:
    practice, _, number = rid.partition("-")
    return practice, int(number)


def _named(section: Section) -> str:
    return f"{section.heading} ({', '.join(section.requirements)})"


def _headings(text: str, path: str) -> tuple[list[str], str]:
    """The lower-case headings (YAML: the keys, `_` read as a space), and why none could be read."""
    if path.endswith((".yaml", ".yml")):
        return _yaml_keys(text, path)
    lines = _body(text.splitlines())
    found = [
        ln.lstrip("#").strip().lower()
        for ln in lines
        if ln.startswith("#") and len(ln) - len(ln.lstrip("#")) <= 6 and ln.lstrip("#")[:1] in " \t"
    ]
    for above, below in zip(lines, lines[1:]):
        if above.strip() and len(set(below.strip())) == 1 and below.strip()[:1] in "=-~^":
            found.append(above.strip().lower())
    return found, ""


def _body(lines: list[str]) -> list[str]:
    """The lines that may hold headings: without a leading front matter block (`---` … `---`)
    and with fenced code blocks blanked (a `# comment` in them is not a heading)."""
    if lines and lines[0].strip() == "---":
        end = next((i for i, ln in enumerate(lines[1:], 1) if ln.strip() in ("---", "...")), None)
        if end is not None:
            lines = [""] * (end + 1) + lines[end + 1 :]
    body, fence = [], ""
    for ln in lines:
        mark = ln.lstrip()[:3]
        if fence:
            if mark == fence:
                fence = ""
            body.append("")
        elif mark in ("```", "~~~"):
            fence = mark
            body.append("")
        else:
            body.append(ln)
    return body


def _yaml_keys(text: str, path: str) -> tuple[list[str], str]:
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as e:
        return [], f"not valid YAML ({str(e).splitlines()[0]})"
    keys: list[str] = []
    stack: list[Any] = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for k, v in item.items():
                keys.append(str(k).replace("_", " ").replace("-", " ").lower())
                stack.append(v)
        elif isinstance(item, list):
            stack.extend(item)
    return keys, ""


def _previous_release(ctx: Context) -> tuple[str, str] | None:
    """The newest release tag (`tag_pattern`, default `v*`) before this commit, and its commit."""
    pattern = _pattern(ctx)
    proc = git.run(
        ctx.root,
        "describe",
        "--tags",
        "--abbrev=0",
        "--match",
        pattern,
        f"{ctx.commit}^",
        check=False,
    )
    tag = proc.stdout.decode("utf-8", "replace").strip() if proc.returncode == 0 else ""
    if not tag:
        return None
    commit = git.resolve(ctx.root, f"refs/tags/{tag}")
    return (tag, commit) if commit else None


def _pattern(ctx: Context) -> str:
    pattern = ctx.config.get("tag_pattern", "v*")
    if not isinstance(pattern, str) or not pattern:
        raise InputError(
            f"[collectors.documents] tag_pattern: expected a glob like 'v*', got {pattern!r}"
        )
    return pattern


def _after(root: Path, change: str, release: str) -> bool:
    """Whether `change` came after the release: it is not the release commit or an ancestor."""
    return (
        git.run(root, "merge-base", "--is-ancestor", change, release, check=False).returncode != 0
    )


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
    # A merge commit (the change arrived with it, or its conflict resolution made it) is not
    # judged as a commit of its own: only a pull/merge request behind it counts as a review.
    judged = reviews.classify([c], history.mailmap(root, values), reviews.Settings())
    when = git.out(root, "log", "-1", "--format=%cI", commit)
    reviewers = tuple(v for k, v in c.trailers if k in reviews.REVIEW_KEYS)
    own = bool(judged) and (judged[0].independent or judged[0].pr_merged)
    return _Change(
        commit=commit,
        author=c.author_email,
        when=datetime.fromisoformat(when),
        reviewers=reviewers,
        reviewed=own or _merged_by_pr(root, c),
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


__all__: Sequence[str] = ("NAME", "PROVIDES", "collect", "inputs", "skeleton", "template_path")
