"""`sdl-tracker init`: write the configuration and create the ledger."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any

    from sdl_tracker.gitdata.repository import Repository
    from sdl_tracker.workspace import Workspace

REPORTS = "sdl-reports/"


NAME = "init"
HELP = "write the configuration and create the ledger"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--branch", help="ledger branch name (default sdl-ledger)")
    parser.add_argument(
        "--pyproject",
        action="store_true",
        help="write [tool.sdl-tracker] into pyproject.toml instead of .sdl-tracker.toml",
    )
    parser.add_argument(
        "--templates",
        action="store_true",
        help="write a skeleton of every process document not yet in the repository, with the "
        "headings the catalogue requires (never overwrites a file); with --framework cra, the "
        "CRA's user information too",
    )
    options.framework(parser)
    options.common(parser)


def main(args: argparse.Namespace) -> int:
    return run(
        ws=options.workspace(args),
        branch=args.branch,
        pyproject=args.pyproject,
        templates=args.templates,
        framework=args.framework,
    )


def run(
    *,
    ws: Workspace,
    branch: str | None,
    pyproject: bool,
    templates: bool = False,
    framework: str = "iec62443-4-1",
) -> int:
    from sdl_tracker import config as config_mod
    from sdl_tracker.gitdata import repository
    from sdl_tracker.workspace import Workspace

    found_repo = repository.inspect(ws.repo())
    root = found_repo.root
    remotes = ", ".join(name for name, _ in found_repo.remotes) or "none"
    output.err(f"repository: {root} ({len(found_repo.tags)} tags; remotes: {remotes})")
    if found_repo.identity is None:
        output.err(
            "note: no git identity (git config user.name / user.email): entries will name "
            "the CI or login user instead"
        )
    found = config_mod.find(root)
    if ws.ledger_dir is None and ws.ledger_url is None and (branch or found is None):
        from sdl_tracker.ledger.gitstore import check_branch

        # Before any file is written: the branch named, or the default one a new
        # configuration will name (a kept configuration's branch is checked by create()).
        check_branch(root, branch or config_mod.DEFAULT_BRANCH)
    if found is not None:
        output.err(f"configuration: {found[0]} (kept as it is)")
    else:
        text = config_mod.TEMPLATE.format(branch=branch or config_mod.DEFAULT_BRANCH)
        text += "\n" + _detected(found_repo)
        if pyproject:
            target = root / "pyproject.toml"
            body = "\n".join(
                line
                if not line.startswith("[") or line.startswith("[tool")
                else f"[tool.sdl-tracker.{line[1:]}"
                for line in text.splitlines()
            )
            existing = target.read_text(encoding="utf-8") if target.exists() else ""
            sep = "\n" if existing and not existing.endswith("\n\n") else ""
            target.write_text(f"{existing}{sep}[tool.sdl-tracker]\n{body}\n", encoding="utf-8")
        else:
            target = root / config_mod.CONFIG_FILE
            target.write_text(text, encoding="utf-8")
        output.err(f"configuration: wrote {target}")
        _ignore_reports(root)
        written = target.relative_to(root).as_posix()
        output.err(
            f"next: review {written}, then commit it: git add {written} .gitignore && "
            'git commit -m "Track IEC 62443-4-1 evidence with sdl-tracker"'
        )
    ws = Workspace(
        root=root,
        config=config_mod.load(root),
        ledger_dir=ws.ledger_dir,
        ledger_url=ws.ledger_url,
        repo_name=ws.repo_name,
    )
    store = ws.store()
    if store.create():
        output.err(f"ledger: created {store.location}")
    else:
        output.err(f"ledger: {store.location} already exists (kept as it is)")
    if templates:
        _templates(root, ws.config.collector("documents"), framework)
    return 0


def _templates(root: Path, config: Mapping[str, Any], framework: str) -> None:
    """Write the skeleton of each document the documents collector would not find (the CRA's
    own documents only under `--framework cra`)."""
    import os

    from sdl_tracker.collectors import documents

    written = []
    for spec in documents.specs(config):
        cra_only = bool(spec.requirements) and all(r.startswith("CRA-") for r in spec.requirements)
        if cra_only and framework != "cra":
            continue
        found = next((p for p in spec.paths if os.path.lexists(root / p)), None)
        target = documents.template_path(spec)
        if found is not None:
            output.err(f"templates: kept {found} ({spec.name}, exists)")
            continue
        if target is None:
            output.err(f"templates: no template for {spec.name}: write {spec.paths[0]} yourself")
            continue
        path = root / target
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("x", encoding="utf-8") as f:  # never overwrite, even in a race
                f.write(documents.skeleton(spec))
        except FileExistsError:
            output.err(f"templates: kept {target} ({spec.name}, exists)")
            continue
        written.append(target)
        output.err(f"templates: wrote {target} ({spec.name} for {', '.join(spec.requirements)})")
    if written:
        output.err(
            "next: fill in the templates, then commit them with a reviewer: git add "
            f"{' '.join(written)} && git commit -m 'Process documents' -m 'Reviewed-by: …'"
        )


def _detected(found: Repository) -> str:
    """Survey the repository, print what was chosen and why, return it as TOML."""
    import os
    import sys

    from sdl_tracker.cli import survey

    result = survey.survey(
        found.root,
        found.tags,
        found.files,
        virtual_env=os.environ.get("VIRTUAL_ENV"),
        own_prefix=sys.prefix,
    )
    for s in result.settings:
        output.err(f"detected: [{s.section}] {s.key} = {survey.render_value(s.value)} ({s.why})")
    for note in result.notes:
        output.err(f"note: {note}")
    return "\n# Detected by `sdl-tracker init` (each value's reason beside it):\n" + survey.render(
        result.settings
    )


def _ignore_reports(root: Path) -> None:
    """Add sdl-reports/ (the gate's JUnit, SARIF and summary) to .gitignore."""
    path = root / ".gitignore"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if any(
        line.strip() in (REPORTS, REPORTS.rstrip("/"), "/" + REPORTS) for line in text.splitlines()
    ):
        output.err(f"gitignore: {REPORTS} already ignored")
        return
    sep = "" if not text or text.endswith("\n") else "\n"
    path.write_text(f"{text}{sep}{REPORTS}\n", encoding="utf-8")
    output.err(f"gitignore: added {REPORTS} (reports the gate writes; evidence is in the ledger)")
