"""The bytes of the statements that carry signatures stay as they are: a checkpoint's signed
payload and ledger statement, and a signature entry's ledger statement, hashed against digests
made before their builders were shared. A format change on purpose makes new digests from the
new code and says so in its commit message; anything else changing them is a bug."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime, timezone

from sdl_tracker.conformance import checkpoints, signatures
from sdl_tracker.gitdata.attest import Envelope
from sdl_tracker.ledger.chain import Head, canonical
from sdl_tracker.models import Statement, Tool

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
HEAD = Head(seq=41, hash="ab" * 32)
COMMIT = "c0ffee" * 6 + "beef"
ENVELOPE = Envelope(payload=b'{"x":1}', keyid="SHA256:key", sig="c2ln", method="ssh")


def _digest(st: Statement) -> str:
    # The tool version changes with every release; the shape under test does not.
    pinned = dataclasses.replace(st.predicate, tool=Tool(name="sdl-tracker", version="0"))
    return hashlib.sha256(canonical(dataclasses.replace(st, predicate=pinned))).hexdigest()


def test_checkpoint_payload_bytes_are_unchanged() -> None:
    # The payload gained `first` (the first entry of the signer's own batch) on purpose: the
    # digest was made again from that code. Without `first`, it defaults to the covered head.
    signed = checkpoints.payload(HEAD, COMMIT, NOW)
    assert (
        hashlib.sha256(signed).hexdigest()
        == "b8f0c191083ac86bf21eee5e7da98f60a9d1c84982855da95cd4eb8e6c508d4b"
    )
    assert b'"first":41' in signed
    assert checkpoints.payload(HEAD, COMMIT, NOW, first=41) == signed


def test_checkpoint_statement_bytes_are_unchanged() -> None:
    st = checkpoints.statement(
        ENVELOPE,
        HEAD,
        collector="ci",
        who="CI <ci@example.com>",
        signer="CI <ci@example.com>",
        commit=COMMIT,
        now=NOW,
    )
    assert _digest(st) == "e4581ebace8a738f2c546d274d2bba184f8c4b58f9f8594508b6dc6b9bfce941"


def test_signature_statement_bytes_are_unchanged() -> None:
    st = signatures.statement(
        ENVELOPE.to_json(),
        method="ssh",
        collector="record",
        signer="Ada <ada@example.com>",
        summary="signature over entry 7",
        commit=COMMIT,
        now=NOW,
    )
    assert _digest(st) == "42c584df1f7dcbaf84a9e4bdfa949731c29d86590a61ebe79dbd7e29553dd199"
