"""Acceptance check: replay a real project's last commits through all our pre-commit hooks.

    python benchmarks/replay.py PATH-TO-A-LOCAL-GIT-REPOSITORY [--commits 50]

Never touches the network: PATH is a git repository already on this machine (clone it yourself
first). It is cloned into a temporary directory; for each of the last N non-merge commits, oldest
first, the work tree is set to the commit's parent and the commit's changes are staged (`git
read-tree -m -u`), as if its author were committing it, then

- `pre-commit run --hook-stage pre-commit --files <the files the commit adds or changes>`, and
- `pre-commit run --hook-stage commit-msg --commit-msg-filename <its message>`

run our hooks (sdl-secrets, sdl-bandit, sdl-threat-model, sdl-sbom; sdl-commit-msg) from this
environment as `repo: local` hooks, with the project's own configuration (none: the defaults).
Prints, as Markdown, every block: the commit, the hook and what the hook said. Exit 0 always:
whether a block is right is for a person to judge (docs/hooks.md lists the last run's verdicts).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
CONFIG = """repos:
- repo: local
  hooks:
  - {id: sdl-secrets, name: sdl-secrets, entry: sdl-secrets, language: system, types: [text],
     stages: [pre-commit]}
  - {id: sdl-bandit, name: sdl-bandit, entry: sdl-bandit, language: system, types: [python],
     stages: [pre-commit]}
  - {id: sdl-threat-model, name: sdl-threat-model, entry: sdl-threat-model, language: system,
     types_or: [yaml, json], stages: [pre-commit]}
  - {id: sdl-sbom, name: sdl-sbom, entry: sdl-sbom, language: system,
     files: '\\.(txt|toml|lock)$', require_serial: true, stages: [pre-commit]}
  - {id: sdl-commit-msg, name: sdl-commit-msg, entry: sdl-commit-msg, language: system,
     stages: [commit-msg]}
"""
_RESULT = re.compile(r"^(?P<hook>sdl-[a-z-]+)\.+(?:\(.*\))?(?P<result>Passed|Failed|Skipped)")


@dataclass(frozen=True)
class Block:
    commit: str
    subject: str
    hook: str
    said: str


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout


def _blocks(output: str, commit: str, subject: str) -> list[Block]:
    found, hook, lines = [], "", []
    for line in [*output.splitlines(), "sdl-end...Passed"]:
        match = _RESULT.match(line)
        if match:
            if hook:
                found.append(Block(commit, subject, hook, "\n".join(lines).strip()))
            hook = match["hook"] if match["result"] == "Failed" else ""
            lines = []
        elif hook:
            lines.append(line)
    return found


def replay(source: Path, count: int, work: Path) -> tuple[list[str], list[Block], Counter[str]]:
    repo = work / "repo"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(source), str(repo)], check=True)
    config = work / "hooks.yaml"
    config.write_text(CONFIG)
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PRE_COMMIT_HOME": str(work / "pre-commit-home"),
    }
    commits = _git(repo, "rev-list", "--no-merges", "-n", str(count), "HEAD").split()[::-1]
    blocks: list[Block] = []
    ran: Counter[str] = Counter()
    for sha in commits:
        parent = _git(repo, "rev-parse", f"{sha}^").strip()
        _git(repo, "checkout", "-q", "--force", "--detach", parent)
        _git(repo, "clean", "-q", "-fdx")
        _git(repo, "read-tree", "-m", "-u", sha)
        files = _git(
            repo, "diff", "--cached", "--name-only", "--diff-filter=ACMR", "--no-renames"
        ).split("\n")
        files = [f for f in files if f]
        subject = _git(repo, "log", "-1", "--format=%s", sha).strip()
        message = work / "MSG"
        message.write_text(_git(repo, "log", "-1", "--format=%B", sha))
        runs = [
            ["--hook-stage", "pre-commit", "--files", *files] if files else [],
            ["--hook-stage", "commit-msg", "--commit-msg-filename", str(message)],
        ]
        for extra in runs:
            if not extra:
                continue
            proc = subprocess.run(
                [str(BIN / "pre-commit"), "run", "-c", str(config), "--color", "never", *extra],
                cwd=repo,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            for line in proc.stdout.splitlines():
                match = _RESULT.match(line)
                if match and match["result"] != "Skipped":
                    ran[match["hook"]] += 1
            blocks += _blocks(proc.stdout, sha[:10], subject)
    return commits, blocks, ran


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repository", type=Path, help="a git repository on this machine")
    parser.add_argument("--commits", type=int, default=50)
    args = parser.parse_args(argv)
    if not (args.repository / ".git").exists() and not (args.repository / "HEAD").is_file():
        parser.error(f"{args.repository}: not a local git repository (clone it first)")
    with tempfile.TemporaryDirectory(prefix="sdl-replay-") as tmp:
        commits, blocks, ran = replay(args.repository.resolve(), args.commits, Path(tmp))
        shutil.rmtree(Path(tmp) / "repo", ignore_errors=True)
    print(f"# Replay of the last {len(commits)} commits of {args.repository}\n")
    print("| hook | ran on | blocked |\n|---|---:|---:|")
    per_hook = Counter(b.hook for b in blocks)
    for hook in ("sdl-secrets", "sdl-bandit", "sdl-threat-model", "sdl-sbom", "sdl-commit-msg"):
        print(f"| {hook} | {ran[hook]} commits | {per_hook[hook]} |")
    for b in blocks:
        said = "\n".join(f"    {line}" for line in b.said.splitlines()[:12])
        print(f"\n## {b.commit} {b.hook}: {b.subject}\n\n{said}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
