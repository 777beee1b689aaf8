"""`sdl-tracker waive` with the request signed (a roster at HEAD, `--key`) against the unsigned
request (no roster), interleaved, CPU seconds of the real CLI (interpreter start-up included).

    python benchmarks/waive.py            # 9 pairs
    python benchmarks/waive.py --pairs 21

The signed request adds one `ssh-keygen -Y sign`, its verification against the roster, the
roster read (which validates it with jsonschema) and `.mailmap`/author lookups; the unsigned one
is what `waive` did before requests were signed. Prints each pair and the median ratio.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from identity import roster_text, ssh_keys  # noqa: E402

IDENTITY = {"GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.com"}
IDENTITY |= {"GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.com"}


def _repo(base: Path, name: str, roster: str | None) -> Path:
    root = base / name
    root.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    (root / "README.md").write_text("demo\n")
    if roster is not None:
        (root / "sdl-roster.yaml").write_text(roster)
    git("add", ".")
    git("commit", "-q", "-m", "initial")
    subprocess.run([sys.executable, "-m", "sdl_tracker", "init", "-C", str(root)], check=True)
    return root


def _cpu(root: Path, extra: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    argv = [sys.executable, "-m", "sdl_tracker", "waive", "SVV-4", "--reason", "booked"]
    soon = f"{date.today() + timedelta(days=30):%Y-%m-%d}"  # within approvals.waiver_max_days
    argv += ["--expires", soon, "--approver", "Grace Hopper <grace@example.com>"]
    subprocess.run([*argv, *extra, "-C", str(root)], check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        config = base / "gitconfig"
        config.write_text("[user]\n\tname = Ada Lovelace\n\temail = ada@example.com\n")
        os.environ.update(IDENTITY, GIT_CONFIG_GLOBAL=str(config), GIT_CONFIG_NOSYSTEM="1")
        keys = ssh_keys(base / "keys")
        signed = _repo(base, "signed", roster_text(keys))
        plain = _repo(base, "plain", None)
        ratios = []
        for _ in range(args.pairs):
            a = _cpu(signed, ["--key", str(keys["ada"])])
            b = _cpu(plain, [])
            ratios.append(a / b)
            print(f"signed {a:.3f} s  unsigned {b:.3f} s  ratio {a / b:.2f}", flush=True)
        ratios.sort()
        print(f"median ratio {ratios[len(ratios) // 2]:.2f} over {args.pairs} pairs")


if __name__ == "__main__":
    main()
