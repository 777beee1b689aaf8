"""The roster (`sdl-roster.yaml`): people, their identities, public keys, SDL roles and training.

It lives in the repository, so its history is reviewed like any document, and the evaluation
reads it as of the evaluated commit. Format (schema: formats/roster.schema.json, documented in
docs/concepts/roster.md):

    people:
      - name: Ada Lovelace
        emails: [ada@example.com, ada@users.noreply.example.com]
        keys:
          - ssh-ed25519 AAAAC3Nza... ada@laptop     # as in git's allowed-signers file
          - ed25519:<base64 of the raw public key>  # a key from `sdl-tracker keygen`
          - openpgp:0123456789ABCDEF0123456789ABCDEF01234567
          - {key: "ssh-ed25519 AAAAC3Nza...", not_before: 2026-01-01, expires: 2026-12-31}
        roles: [product-security-lead, approver]
        training:
          - {course: Secure coding in Python, date: 2026-01-15, expires: 2027-01-15}
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import cache
from importlib import resources
from typing import Any

import yaml

from sdl_tracker.errors import InputError

FILE = "sdl-roster.yaml"
ROLES = (
    "product-security-lead",
    "approver",
    "reviewer",
    "tester",
    "independent-tester",
    "developer",
    "ci",
)
#: SSH public key algorithms as they start a line of an allowed-signers file.
_SSH_PREFIXES = ("ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-")


@dataclass(frozen=True)
class Training:
    course: str
    taken: date
    expires: date | None

    def current(self, today: date) -> bool:
        return self.expires is None or today <= self.expires


@dataclass(frozen=True)
class KeyValidity:
    """The dates a roster key is valid between (both days included, UTC)."""

    key: str
    """The key as the roster names it: `ssh-ed25519 AAAA…`, `ed25519:…`, `openpgp:FPR`."""
    not_before: date | None
    expires: date | None
    line: int
    """The line of the roster that names it (1-based)."""

    def outside(self, earliest: datetime, latest: datetime | None = None) -> str:
        """Why the key was not valid for a signature ('' when it was), failing closed: too
        early when `earliest` (the earliest time anything tells) is before `not_before`, too
        late when `latest` (default `earliest`) is after the day it `expires`."""
        latest = latest or earliest
        first = earliest.astimezone(timezone.utc).date()
        last = latest.astimezone(timezone.utc).date()
        if self.not_before is not None and first < self.not_before:
            return f"is not valid before {self.not_before.isoformat()}"
        if self.expires is not None and last > self.expires:
            return f"expired on {self.expires.isoformat()}"
        return ""

    @property
    def label(self) -> str:
        """The key shortened for messages."""
        return self.key if len(self.key) <= 40 else self.key[:40] + "…"


@dataclass(frozen=True)
class Person:
    """One person of the roster; the first e-mail is the principal of their SSH keys."""

    name: str
    emails: tuple[str, ...]
    ssh_keys: tuple[str, ...] = ()
    """`<algorithm> <base64>` of each SSH public key (comment dropped)."""
    ed25519_keys: tuple[str, ...] = ()
    """Base64 of each raw 32-byte Ed25519 public key (`sdl-tracker keygen`)."""
    openpgp: tuple[str, ...] = ()
    """Upper-case fingerprints of OpenPGP keys."""
    roles: tuple[str, ...] = ()
    training: tuple[Training, ...] = ()
    validity: tuple[KeyValidity, ...] = ()
    """The keys that carry validity dates (`not_before`, `expires`)."""

    def validity_of(self, key: str) -> KeyValidity | None:
        """The dates of `key` (as `KeyValidity.key` names it), None when it has none."""
        return next((v for v in self.validity if v.key == key), None)

    @property
    def identity(self) -> str:
        return f"{self.name} <{self.emails[0]}>"

    def trained(self, today: date) -> bool:
        """Whether any recorded training is current on `today`."""
        return any(t.current(today) for t in self.training)


@dataclass(frozen=True)
class Roster:
    people: tuple[Person, ...]
    source: str = FILE

    def by_email(self, email: str) -> Person | None:
        email = email.strip().lower()
        return next((p for p in self.people if email in p.emails), None)

    def by_ssh_key(self, key: str) -> Person | None:
        key = " ".join(key.split()[:2])
        return next((p for p in self.people if key in p.ssh_keys), None)

    def by_ed25519(self, raw_b64: str) -> Person | None:
        return next((p for p in self.people if raw_b64 in p.ed25519_keys), None)

    def holders(self, role: str) -> tuple[Person, ...]:
        return tuple(p for p in self.people if role in p.roles)

    def to_json(self) -> dict[str, Any]:
        """People, e-mails, roles and keys (with their dates) as plain JSON: what an evidence
        package carries for verify.py, which has no YAML reader. Training is left out."""
        people = []
        for p in self.people:
            named = (
                *p.ssh_keys,
                *(f"ed25519:{k}" for k in p.ed25519_keys),
                *(f"openpgp:{k}" for k in p.openpgp),
            )
            keys = []
            for key in named:
                dates = p.validity_of(key)
                keys.append(
                    {
                        "key": key,
                        "not_before": str(dates.not_before) if dates and dates.not_before else None,
                        "expires": str(dates.expires) if dates and dates.expires else None,
                    }
                )
            people.append(
                {"name": p.name, "emails": list(p.emails), "roles": list(p.roles), "keys": keys}
            )
        return {"source": self.source, "people": people}

    def allowed_signers(self) -> str:
        """The roster as git's / ssh-keygen's allowed-signers file (principals: every e-mail)."""
        lines: list[str] = []
        for p in self.people:
            principals = ",".join(p.emails)
            lines.extend(f'{principals} namespaces="sdl-tracker" {key}' for key in p.ssh_keys)
        return "\n".join(lines) + ("\n" if lines else "")


def parse(text: str, source: str = FILE) -> Roster:
    """The roster from YAML text; InputError naming the place and what was expected."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise InputError(f"{source}: not valid YAML ({e})") from e
    data = _plain(data)
    _validate(data, source)
    people = tuple(_person(p, i, source, text) for i, p in enumerate(data["people"]))
    seen: dict[str, str] = {}
    for person in people:
        for email in person.emails:
            if email in seen:
                raise InputError(
                    f"{source}: e-mail {email} belongs to both {seen[email]} and {person.name}; "
                    "one identity, one person"
                )
            seen[email] = person.name
    return Roster(people=people, source=source)


@cache
def schema() -> dict[str, Any]:
    text = (resources.files("sdl_tracker.formats") / "roster.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _validate(data: Any, source: str) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top)"
        raise InputError(
            f"{source}: at {where}: {first.message} (the format: docs/concepts/roster.md)"
        )


def _person(data: dict[str, Any], index: int, source: str, text: str = "") -> Person:
    ssh, ed25519, openpgp, validity = [], [], [], []
    for item in data.get("keys", []):
        key = str(item["key"] if isinstance(item, dict) else item).strip()
        if isinstance(item, dict):
            validity.append(_validity(item, key, index, source, text))
        if key.startswith(_SSH_PREFIXES):
            parts = key.split()
            if len(parts) < 2:
                raise InputError(f"{source}: people/{index}/keys: {key!r} lacks the key data")
            ssh.append(f"{parts[0]} {parts[1]}")
        elif key.startswith("ed25519:"):
            raw = key.removeprefix("ed25519:")
            try:
                if len(base64.b64decode(raw, validate=True)) != 32:
                    raise ValueError("not 32 bytes")
            except (binascii.Error, ValueError) as e:
                raise InputError(
                    f"{source}: people/{index}/keys: {key!r} is not the base64 of a raw "
                    f"Ed25519 public key ({e})"
                ) from e
            ed25519.append(raw)
        else:
            openpgp.append(key.removeprefix("openpgp:").replace(" ", "").upper())
    return Person(
        name=str(data["name"]),
        emails=tuple(str(e).strip().lower() for e in data["emails"]),
        ssh_keys=tuple(ssh),
        ed25519_keys=tuple(ed25519),
        openpgp=tuple(openpgp),
        roles=tuple(str(r) for r in data.get("roles", [])),
        validity=tuple(validity),
        training=tuple(
            Training(
                course=str(t["course"]),
                taken=_date(t["date"]),
                expires=_date(t["expires"]) if t.get("expires") is not None else None,
            )
            for t in data.get("training", [])
        ),
    )


def key_name(key: str) -> str:
    """A roster key as `KeyValidity.key` names it (an SSH key without its comment, an OpenPGP
    fingerprint upper-cased without spaces)."""
    if key.startswith(_SSH_PREFIXES):
        return " ".join(key.split()[:2])
    if key.startswith("ed25519:"):
        return key
    return "openpgp:" + key.removeprefix("openpgp:").replace(" ", "").upper()


def _validity(item: dict[str, Any], key: str, index: int, source: str, text: str) -> KeyValidity:
    start = item.get("not_before")
    end = item.get("expires")
    found = KeyValidity(
        key=key_name(key),
        not_before=_date(start) if start is not None else None,
        expires=_date(end) if end is not None else None,
        line=_line(text, key),
    )
    if found.not_before and found.expires and found.expires < found.not_before:
        raise InputError(
            f"{source} line {found.line}: people/{index}/keys: the key expires "
            f"({found.expires}) before it becomes valid ({found.not_before})"
        )
    return found


def _line(text: str, key: str) -> int:
    """The line of `text` that names `key` (its data, the part that is unique), 1 if none."""
    parts = key.split()
    data = parts[1] if key.startswith(_SSH_PREFIXES) and len(parts) > 1 else key
    data = data.removeprefix("ed25519:").removeprefix("openpgp:")
    at = text.find(data) if data else -1
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def _plain(value: Any) -> Any:
    """YAML dates as ISO text, so that the JSON schema sees JSON types only."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()[:10]
    return value


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
