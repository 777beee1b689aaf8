"""Options several commands share, each with its environment default, and the workspace they open.

Every option that CI might set reads an `SDL_TRACKER_*` variable for its default; this module and
the command modules are the only places that read the environment for options.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sdl_tracker.workspace import Workspace


def common(parser: argparse.ArgumentParser) -> None:
    """Options every sub-command accepts (after the sub-command name)."""
    parser.add_argument(
        "--repo",
        "-C",
        type=Path,
        default=Path(os.environ.get("SDL_TRACKER_REPO", ".")),
        help="the git repository to work on (default: the current directory)",
    )
    parser.add_argument(
        "--ledger-dir",
        type=Path,
        default=Path(os.environ["SDL_TRACKER_LEDGER_DIR"])
        if os.environ.get("SDL_TRACKER_LEDGER_DIR")
        else None,
        help="keep the ledger in this directory instead of the git branch "
        "(env SDL_TRACKER_LEDGER_DIR)",
    )
    parser.add_argument(
        "--ledger",
        metavar="URL",
        default=os.environ.get("SDL_TRACKER_LEDGER") or None,
        help="a central ledger on PostgreSQL, postgresql://USER@HOST/DBNAME "
        "(env SDL_TRACKER_LEDGER; config [ledger] url)",
    )
    parser.add_argument(
        "--repo-name",
        metavar="NAME",
        default=os.environ.get("SDL_TRACKER_REPO_NAME") or None,
        help="this repository's chain in the central ledger (env SDL_TRACKER_REPO_NAME; "
        "default: [ledger] repo_name, else origin's name, else the directory's)",
    )
    terminal(parser)


def terminal(parser: argparse.ArgumentParser) -> None:
    """`--color` and `--verbose`, for every command (those without a repository too)."""
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default=os.environ.get("SDL_TRACKER_COLOR", "auto"),
        help="colour on stderr: auto = only on a terminal (env SDL_TRACKER_COLOR)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="tracebacks for bugs")


def output_format(
    parser: argparse.ArgumentParser, choices: Sequence[str] = ("text", "json")
) -> None:
    """`--format`: the first choice is for people (stderr), the others for machines (stdout)."""
    env = os.environ.get("SDL_TRACKER_FORMAT", "")
    parser.add_argument(
        "--format",
        choices=choices,
        default=env if env in choices else choices[0],
        help=f"{' | '.join(choices)}: text is for people (stderr), the others for machines "
        "(stdout); env SDL_TRACKER_FORMAT",
    )


def policy(parser: argparse.ArgumentParser) -> None:
    """`--policy FILE` (env SDL_TRACKER_POLICY)."""
    env = os.environ.get("SDL_TRACKER_POLICY")
    parser.add_argument(
        "--policy",
        type=Path,
        default=Path(env) if env else None,
        metavar="FILE",
        help="policy file (env SDL_TRACKER_POLICY; default: `policy` in the configuration, "
        "else the shipped iec62443-4-1 policy)",
    )


def framework(parser: argparse.ArgumentParser) -> None:
    """`--framework {iec62443-4-1,cra}` (env SDL_TRACKER_FRAMEWORK)."""
    choices = ("iec62443-4-1", "cra")
    env = os.environ.get("SDL_TRACKER_FRAMEWORK", "")
    parser.add_argument(
        "--framework",
        choices=choices,
        default=env if env in choices else choices[0],
        help="judge the ledger against IEC 62443-4-1 (default) or the EU Cyber Resilience Act "
        "(cra: the shipped cra-2024-2847 policy, or --policy FILE extending it); "
        "env SDL_TRACKER_FRAMEWORK",
    )


def what_if(parser: argparse.ArgumentParser) -> None:
    """`--what-if`: a verdict on a policy the commit does not hold, printed, never recorded."""
    parser.add_argument(
        "--what-if",
        action="store_true",
        help="try a policy the evaluated commit does not hold (--policy outside the repository, "
        "SDL_TRACKER_POLICY, uncommitted changes); the verdict is printed as a what-if and "
        "never recorded",
    )


def policy_from_env(what_if: bool) -> None:
    """A release verdict never takes its policy from the environment: `--what-if` or unset it."""
    from sdl_tracker.errors import InputError

    if os.environ.get("SDL_TRACKER_POLICY") and not what_if:
        raise InputError(
            "SDL_TRACKER_POLICY is set: a release verdict uses only the policy committed at the "
            "evaluated commit (`policy` in the configuration); unset it, or add --what-if to "
            "try that policy (the verdict is printed, not recorded)"
        )


def sign(parser: argparse.ArgumentParser, text: str) -> None:
    """`--sign KEYFILE` (env SDL_TRACKER_SIGNING_KEY)."""
    env = os.environ.get("SDL_TRACKER_SIGNING_KEY")
    parser.add_argument(
        "--sign",
        type=Path,
        metavar="KEYFILE",
        default=Path(env) if env else None,
        help=f"{text} (env SDL_TRACKER_SIGNING_KEY)",
    )


def person_key(parser: argparse.ArgumentParser) -> None:
    """`--key FILE`: a person's own signing key (default: git's user.signingkey for SSH)."""
    parser.add_argument(
        "--key",
        type=Path,
        metavar="FILE",
        help="your signing key: an SSH private key (or its .pub with the key in ssh-agent), a "
        "`sdl-tracker keygen` key, or openpgp:FINGERPRINT (gpg's keyring); default: git's "
        "user.signingkey",
    )


def resolve_key(ws: Workspace, key: Path | None) -> Path:
    """The person's key file: `--key`, else git's `user.signingkey` (gpg.format=ssh)."""
    from sdl_tracker.errors import InputError
    from sdl_tracker.gitdata import git

    if key is not None:
        return key
    root = ws.repo()
    fmt = git.run(root, "config", "--get", "gpg.format", check=False).stdout.decode().strip()
    found = git.run(root, "config", "--get", "user.signingkey", check=False).stdout.decode()
    found = found.strip()
    if fmt == "ssh" and found and not found.startswith("key::"):
        return Path(os.path.expanduser(found))
    if fmt in ("", "openpgp") and found:
        return Path("openpgp:" + found)
    raise InputError(
        "no signing key: give --key FILE (your SSH key, as you sign commits with, or a "
        "`sdl-tracker keygen` key) or --key openpgp:FINGERPRINT (a key in gpg's keyring), or "
        "set git's user.signingkey (gpg.format ssh or openpgp)"
    )


def names(values: Sequence[str]) -> list[str]:
    """Repeatable, comma-separated names (`--only a,b --only c`) as one list."""
    return [n.strip() for part in values for n in part.split(",") if n.strip()]


def workspace(args: argparse.Namespace) -> Workspace:
    """The repository and ledger the common options name."""
    from sdl_tracker.workspace import open_workspace

    return open_workspace(
        args.repo, ledger_dir=args.ledger_dir, ledger_url=args.ledger, repo_name=args.repo_name
    )
