"""People with real keys for the signature tests: ssh-keygen Ed25519 keys and a roster."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from helpers import git

#: name → (full name, e-mail, roles). Ada is the git identity of the `git_repo` fixture.
PEOPLE: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "ada": ("Ada Lovelace", "ada@example.com", ("developer", "approver")),
    "grace": ("Grace Hopper", "grace@example.com", ("approver", "product-security-lead")),
    "tess": ("Tess Tester", "tess@example.com", ("independent-tester", "tester")),
}


def ssh_keys(where: Path, names: Sequence[str] = tuple(PEOPLE)) -> dict[str, Path]:
    """An unencrypted Ed25519 SSH key per person (private key path; the public one at .pub)."""
    where.mkdir(parents=True, exist_ok=True)
    keys = {}
    for name in names:
        path = where / f"{name}_ed25519"
        if not path.exists():
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)],
                check=True,
            )
        keys[name] = path
    return keys


def roster_text(
    keys: Mapping[str, Path],
    roles: Mapping[str, Sequence[str]] | None = None,
    emails: Mapping[str, Sequence[str]] | None = None,
    extra_keys: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """`sdl-roster.yaml` for the people in `keys` (roles and e-mails overridable)."""
    lines = ["people:"]
    for name, key in keys.items():
        full, email, default_roles = PEOPLE[name]
        public = " ".join(key.with_name(key.name + ".pub").read_text().split()[:2])
        addresses = [email, *(emails or {}).get(name, ())]
        lines += [
            f"  - name: {full}",
            f"    emails: [{', '.join(addresses)}]",
            f'    keys: ["{public}"'
            + "".join(f', "{k}"' for k in (extra_keys or {}).get(name, ()))
            + "]",
            f"    roles: [{', '.join((roles or {}).get(name, default_roles))}]",
            "    training:",
            "      - {course: Secure development, date: 2026-01-10, expires: 2099-01-10}",
        ]
    return "\n".join(lines) + "\n"


def commit_roster(repo: Path, text: str, message: str = "roster") -> None:
    (repo / "sdl-roster.yaml").write_text(text)
    git(repo, "add", "sdl-roster.yaml")
    git(repo, "commit", "-q", "-m", message)


def approved_policy(
    repo: Path, text: str, name: str = "sdl-policy.yaml", ledger_dir: Path | None = None
) -> Path:
    """Commit `text` as the project policy and approve it as Grace, the product-security-lead
    (committing a roster of everyone first when there is none): what a release verdict needs
    for its tailoring to count."""
    from sdl_tracker.cli.commands import approve
    from sdl_tracker.workspace import open_workspace

    keys = ssh_keys(repo.parent / "keys")
    if not (repo / "sdl-roster.yaml").exists():
        commit_roster(repo, roster_text(keys))
    path = repo / name
    path.write_text(text, encoding="utf-8")
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"policy {name}")
    ws = open_workspace(repo, ledger_dir=ledger_dir)
    assert approve.run_policy(ws=ws, policy_file=path, key=keys["grace"], fmt="text") == 0
    return path
