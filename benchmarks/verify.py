"""What verify.py's own SSH signature check costs, next to `ssh-keygen -Y verify` and to the
check without it.

    python benchmarks/verify.py                          # 100 batches: 100 + 100 signatures
    python benchmarks/verify.py --batches 400 --repeat 3

Builds a directory ledger of N batches, each one SAST statement, a person's signature over it
(`record --sign`: an ssh-ed25519 key) and a CI checkpoint (an RSA-2048 SSH key), with the real
`ssh-keygen -Y sign`. Then, in CPU seconds (best of `--repeat`):

* without  - verify.py's chain and checkpoint placement checks alone (the path before);
* with     - the same plus `ssh_signatures` against an allowed-signers file and roster.json
             (pure Python: Ed25519 point arithmetic, RSA `pow`);
* ssh-keygen - one `ssh-keygen -Y verify` process per signature (what an auditor would run by
             hand), the messages and signature files written beforehand.

Prints the cost per signature of each key type and the ratios with/without, with/ssh-keygen.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger import statement  # noqa: E402  (benchmarks/ledger.py)

from sdl_tracker import ledger as ledger_mod  # noqa: E402
from sdl_tracker.conformance import checkpoints, signatures  # noqa: E402
from sdl_tracker.exporters import verify_script  # noqa: E402
from sdl_tracker.gitdata import attest  # noqa: E402
from sdl_tracker.ledger import DirStore  # noqa: E402
from sdl_tracker.ledger.chain import canonical  # noqa: E402

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def best(fn: Callable[[], object], repeat: int) -> float:
    found = float("inf")
    for _ in range(repeat):
        start = cpu()
        fn()
        found = min(found, cpu() - start)
    return found


def keygen(path: Path, kind: str) -> Path:
    argv = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", path.name, "-f", str(path)]
    subprocess.run(argv + (["-b", "2048"] if kind == "rsa" else []), check=True)
    return path


def public(key: Path) -> str:
    return " ".join(key.with_name(key.name + ".pub").read_text().split()[:2])


def build(where: Path, batches: int) -> tuple[dict[str, bytes], str]:
    """The package files verify.py reads (ledger, roster.json) and the allowed-signers text."""
    tess, ci = keygen(where / "tess", "ed25519"), keygen(where / "ci", "rsa")
    store = DirStore(where / "ledger")
    store.create()
    mark = checkpoints.Key(path=ci, signer="CI <ci@example.com>")
    for i in range(batches):
        st = statement(i)
        envelope = attest.sign(tess, canonical(st))
        sig = signatures.statement(
            envelope.to_json(),
            method=envelope.method,
            collector="record",
            signer="Tess Tester <tess@example.com>",
            summary="signature",
            commit=None,
            now=NOW + timedelta(seconds=i),
        )
        maker = mark.maker(collector="collect", who="CI", commit=None, now=NOW, count=2)
        ledger_mod.append(store, [st, sig], checkpoint=maker)
    people = [
        {"name": "Tess Tester", "emails": ["tess@example.com"], "roles": ["tester"]}
        | {"keys": [{"key": public(tess)}]},
        {"name": "CI", "emails": ["ci@example.com"], "roles": ["ci"]}
        | {"keys": [{"key": public(ci)}]},
    ]
    data = b"".join(e.raw + b"\n" for e in ledger_mod.entries(store))
    files = {verify_script.LEDGER: data, verify_script.ROSTER: json.dumps({"people": people})}
    allowed = f"tess@example.com {public(tess)}\nci@example.com {public(ci)}\n"
    return {k: v if isinstance(v, bytes) else v.encode() for k, v in files.items()}, allowed


def check(files: dict[str, bytes], allowed: str | None) -> verify_script.Checker:
    lines = verify_script.read_allowed_signers(allowed, "allowed") if allowed else None
    checker = verify_script.Checker(files, None, lines)
    checker.chain({})
    checker.checkpoints()
    if allowed is not None:
        checker.ssh_signatures()
    return checker


def by_ssh_keygen(files: dict[str, bytes], allowed: str, where: Path) -> Callable[[], None]:
    """One `ssh-keygen -Y verify` per signature of the ledger, its inputs written now."""
    (where / "allowed").write_text(allowed)
    jobs = []
    for line in files[verify_script.LEDGER].splitlines():
        predicate = json.loads(line)["statement"]["predicate"]
        if predicate["kind"] not in ("signature", "checkpoint"):
            continue
        env = attest.Envelope.from_json(predicate["details"]["envelope"], "ssh")
        assert env is not None
        n = len(jobs)
        (where / f"{n}.sig").write_bytes(verify_script.base64.b64decode(env.sig))
        principal = "ci@example.com" if predicate["kind"] == "checkpoint" else "tess@example.com"
        jobs.append((where / f"{n}.sig", attest.pae(env.payload_type, env.payload), principal))

    def run() -> None:
        for sig, message, principal in jobs:
            argv = ["ssh-keygen", "-Y", "verify", "-f", str(where / "allowed"), "-I", principal]
            argv += ["-n", "sdl-tracker", "-s", str(sig)]
            done = subprocess.run(argv, input=message, capture_output=True, check=False)
            assert done.returncode == 0, done.stderr

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sdl-bench-verify-") as tmp:
        where = Path(tmp)
        started = time.perf_counter()
        files, allowed = build(where, args.batches)
        print(f"built {args.batches} batches in {time.perf_counter() - started:.1f} s wall")
        done = check(files, allowed)
        assert not [p for p in done.problems if "MANIFEST" not in p], done.problems
        assert len(done.signed) == 2 * args.batches and not done.unchecked
        without = best(lambda: check(files, None), args.repeat)
        with_ = best(lambda: check(files, allowed), args.repeat)
        raw = best(by_ssh_keygen(files, allowed, where), args.repeat)
    n = 2 * args.batches
    ed = best(lambda: _one(files, "signature"), args.repeat)
    rsa = best(lambda: _one(files, "checkpoint"), args.repeat)
    print(f"{n} SSH signatures ({args.batches} ssh-ed25519, {args.batches} ssh-rsa 2048)")
    print(f"without the SSH check  {without:8.3f} s CPU")
    print(f"with it                {with_:8.3f} s CPU   ({(with_ - without) / n * 1e3:.2f} ms/sig)")
    print(f"ssh-keygen -Y verify   {raw:8.3f} s CPU   ({raw / n * 1e3:.2f} ms/sig)")
    print(f"one ssh-ed25519 verify {ed * 1e3:8.2f} ms; one ssh-rsa verify {rsa * 1e3:.2f} ms")
    print(f"with/without = {with_ / without:.1f}x   with/ssh-keygen = {with_ / raw:.2f}x")
    return 0


def _one(files: dict[str, bytes], kind: str) -> None:
    """Verify the first SSH signature of `kind` alone (SSHSIG parse and the key's maths)."""
    for line in files[verify_script.LEDGER].splitlines():
        predicate = json.loads(line)["statement"]["predicate"]
        if predicate["kind"] == kind:
            env = attest.Envelope.from_json(predicate["details"]["envelope"], "ssh")
            assert env is not None
            sig = verify_script.SshSignature(verify_script.base64.b64decode(env.sig))
            assert sig.verify(attest.pae(env.payload_type, env.payload)) == ""
            return


if __name__ == "__main__":
    sys.exit(main())
