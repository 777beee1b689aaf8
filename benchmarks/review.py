"""Benchmark: the review collector over a long history vs the raw `git log` reading the same fields.

    python benchmarks/review.py [REPO] [--commits N] [--runs R]

With REPO (e.g. a clone of git/git) the whole history of its HEAD is read. Without it, a
synthetic but realistic repository is built with `git fast-import` in a temporary directory:
N commits (default 20 000) of pull-request branches merged with GitHub merge commits, squash
merges committed by noreply@github.com, plain commits, reviewer / co-author / sign-off trailers
(some folded, some repeated, some after a `---` line), a .mailmap and a few hundred files.

Everything runs in the same process, interleaved, best of R runs each:
- raw: `git log` with exactly the collector's format and options, its output read through a
  pipe into memory (what any reader of that output pays), and — the strictest floor — the
  same command writing to /dev/null (git alone, no pipe);
- parsing: `history.read()` — that `git log`, streamed and parsed into commits;
- collector: `review.collect()` — range, the same `git log` and parsing, `git check-mailmap`,
  the review rules, metrics and the `review.json` artifact.
Target (issue 4): parsing / raw <= 1.5; the whole collector's ratios are printed too.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from sdl_tracker.collectors import review
from sdl_tracker.collectors.base import Context
from sdl_tracker.gitdata import git, history

PEOPLE = [(f"Dev {i}", f"dev{i}@example.com") for i in range(40)]
GITHUB = ("GitHub", "noreply@github.com")
DIRS = ["src/core", "src/crypto", "src/net", "src/ui", "docs", "tests", "tools", "."]


def _message(rnd: random.Random, subject: str, author: tuple[str, str]) -> str:
    body = "\n".join(
        f"Line {i} of the explanation of the change." for i in range(rnd.randint(0, 6))
    )
    if rnd.random() < 0.1:
        body += "\n---\nnotes below a dashed line\n"
    trailers = []
    for _ in range(rnd.choice((0, 0, 1, 1, 2, 3))):
        name, email = rnd.choice(PEOPLE)
        key = rnd.choice(("Reviewed-by", "Acked-by", "Signed-off-by", "Co-authored-by"))
        if rnd.random() < 0.05:
            trailers.append(f"{key}: {name}\n  <{email}>")
        else:
            trailers.append(f"{key}: {name} <{email}>")
    trailers.append(f"Signed-off-by: {author[0]} <{author[1]}>")
    return f"{subject}\n\n{body}\n\n" + "\n".join(trailers) + "\n"


def _stream(n: int, seed: int = 1) -> Iterator[bytes]:
    """A `git fast-import` stream of about `n` commits."""
    rnd = random.Random(seed)
    files = [f"{d}/file{i}.py" if d != "." else f"file{i}.py" for d in DIRS for i in range(60)]
    mark, made, pr = 0, 0, 0
    t = 1_500_000_000
    main_tip: int | None = None

    def commit(ref: str, subject: str, author, committer, parents: list[int]) -> int:
        nonlocal mark, t, made
        mark += 1
        made += 1
        t += 600
        msg = _message(rnd, subject, author).encode()
        out = [f"commit {ref}\nmark :{mark}\n".encode()]
        out.append(f"author {author[0]} <{author[1]}> {t} +0000\n".encode())
        out.append(f"committer {committer[0]} <{committer[1]}> {t} +0000\n".encode())
        out.append(b"data %d\n%s\n" % (len(msg), msg))
        if parents:
            out.append(f"from :{parents[0]}\n".encode())
        for p in parents[1:]:
            out.append(f"merge :{p}\n".encode())
        if len(parents) < 2:
            for path in rnd.sample(files, rnd.randint(1, 3)):
                data = f"# {mark}\n".encode()
                out.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data))
        chunks.append(b"".join(out))
        return mark

    chunks: list[bytes] = []
    main_tip = commit("refs/heads/main", "initial", PEOPLE[0], PEOPLE[0], [])
    while made < n:
        kind = rnd.random()
        author = rnd.choice(PEOPLE)
        if kind < 0.45:  # a pull request branch and its GitHub merge
            pr += 1
            tip = main_tip
            for i in range(rnd.randint(1, 4)):
                tip = commit(
                    f"refs/heads/pr{pr % 50}", f"part {i} of change {pr}", author, author, [tip]
                )
            merger = rnd.choice(PEOPLE)
            main_tip = commit(
                "refs/heads/main",
                f"Merge pull request #{pr} from org/topic-{pr}",
                merger,
                GITHUB,
                [main_tip, tip],
            )
        elif kind < 0.8:  # a squash merge
            pr += 1
            main_tip = commit("refs/heads/main", f"Change {pr} (#{pr})", author, GITHUB, [main_tip])
        else:
            main_tip = commit(
                "refs/heads/main", f"direct change {made}", author, author, [main_tip]
            )
    yield from chunks
    yield b"done\n"


def build(path: Path, n: int) -> None:
    git.run(path, "init", "-q", "-b", "main")
    proc = subprocess.Popen(
        ["git", "-C", str(path), "fast-import", "--quiet", "--done"], stdin=subprocess.PIPE
    )
    assert proc.stdin is not None
    for chunk in _stream(n):
        proc.stdin.write(chunk)
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    git.run(path, "reset", "-q", "--hard", "main")
    (path / ".mailmap").write_text("Dev 1 <dev1@example.com> <dev1.old@example.com>\n")
    git.run(path, "commit-graph", "write", "--reachable")


def _repository(path: Path) -> Path:
    """The work tree root, or the path itself for a bare repository (e.g. a mirror)."""
    proc = git.run(path, "rev-parse", "--is-bare-repository", check=False)
    return path if proc.stdout.strip() == b"true" else git.toplevel(path)


def best(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repo", nargs="?", type=Path, help="a real repository (whole history)")
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.repo is None:
            repo = Path(tmp)
            start = time.perf_counter()
            build(repo, args.commits)
            print(
                f"built a synthetic history of {args.commits} commits "
                f"in {time.perf_counter() - start:.1f} s",
                file=sys.stderr,
            )
        else:
            repo = _repository(args.repo)
        head = git.out(repo, "rev-parse", "HEAD")
        ctx = Context(
            root=repo, commit=head, config={}, now=datetime.now(timezone.utc), options={"all": "1"}
        )
        rng = review.commit_range(ctx)
        argv = ["git", "-C", str(repo), *history.log_args(rng)]
        env = {**os.environ, "LC_ALL": "C"}

        def raw() -> None:
            subprocess.run(argv, stdout=subprocess.PIPE, check=True, env=env)

        def devnull() -> None:
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, env=env)

        def parse() -> None:
            history.read(repo, rng)

        def collector() -> None:
            list(review.collect(ctx))

        raw()  # warm the page cache
        collector()
        steps = {"raw": raw, "devnull": devnull, "parse": parse, "collector": collector}
        times: dict[str, list[float]] = {name: [] for name in steps}
        for _ in range(args.runs):
            for name, fn in steps.items():
                times[name].append(best(fn, 1))
        (evidence,) = review.collect(ctx)
    metrics = evidence.result.metrics
    r, d, p, c = (min(times[k]) for k in ("raw", "devnull", "parse", "collector"))
    print(
        f"repository: {args.repo or 'synthetic'}; {metrics['commits']} non-merge commits "
        f"({metrics['pr_merged']} PR-merged, {metrics['reviewed']} reviewed, "
        f"{metrics['independently_reviewed']} independently); best of {args.runs}"
    )
    print(f"raw git log, same format and options, read via a pipe: {r:.3f} s")
    print(f"raw git log, same format and options, > /dev/null:     {d:.3f} s")
    print(f"history parsing (history.read): {p:.3f} s  {p / r:.2f}x raw ({p / d:.2f}x /dev/null)")
    print(f"whole review collector:         {c:.3f} s  {c / r:.2f}x raw ({c / d:.2f}x /dev/null)")
    print("target: parsing <= 1.5x raw")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
