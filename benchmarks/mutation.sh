#!/usr/bin/env bash
# Mutation testing of the trust-critical code with mutmut 3 (not run in CI: hours of CPU).
#
#   benchmarks/mutation.sh                  # the ledger target: chain.py + trust.py, tests/ledger
#   benchmarks/mutation.sh waivers gate     # other targets, each with its own tests
#
# It works on a copy of the committed tree (git archive HEAD; mutmut writes `mutants/` there),
# and leaves the copy for `mutmut show NAME` / `mutmut results`. Before mutating it checks the
# harness itself: with a deliberately broken chain.py in the copy, the selected tests must fail
# (a harness that imports the unmutated package from elsewhere kills nothing and reports every
# mutant as a survivor, or worse, reports nothing). PYTHONPATH points at the mutated copy so the
# tests' subprocesses (`sdl-tracker ...`, `python -c ...`) run the mutant too.
# Results and the reason for every survivor: docs/testing.md ("Mutation testing").
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)/sdl-tracker"
mkdir -p "$work"
git -C "$src" archive HEAD | tar -x -C "$work"
cd "$work"
python -c 'import mutmut, sys; sys.exit(not mutmut.__version__.startswith("3."))' 2>/dev/null ||
  python -m pip install --quiet 'mutmut==3.8.1'
CHILDREN="${MUTATION_CHILDREN:-2}"

declare -A MUTATE=(
  [ledger]="sdl_tracker/ledger/chain.py sdl_tracker/ledger/trust.py"
  [stores]="sdl_tracker/ledger/dirstore.py sdl_tracker/ledger/gitstore.py sdl_tracker/ledger/history.py"
  [waivers]="sdl_tracker/conformance/waivers.py"
  [reviews]="sdl_tracker/collectors/review.py"
  [gate]="sdl_tracker/conformance/verdicts.py sdl_tracker/conformance/evaluate.py"
)
# Left out (minutes per run on the 2-core machine): the two concurrent-writer stress tests (8
# processes, 250 appends each; the store tests around them cover the same append path) and the
# PostgreSQL tests (a throw-away cluster per test): PostgreSQL-only lines show as "no tests".
LEDGER="tests/ledger/test_chain.py tests/ledger/test_trust.py tests/ledger/test_mutations.py
  tests/ledger/test_stores.py tests/ledger/test_oserrors.py
  --deselect tests/ledger/test_stores.py::test_concurrent_writers_lose_nothing"
declare -A TESTS=(
  [ledger]="$LEDGER"
  [stores]="$LEDGER"
  [waivers]="tests/conformance/test_waivers.py tests/cli/commands/test_waive.py"
  [reviews]="tests/collectors/test_review.py"
  [gate]="tests/conformance tests/cli/commands/test_gate.py"
)

config() {  # mutmut reads [mutmut] from setup.cfg when pyproject.toml has no [tool.mutmut]
  {
    echo "[mutmut]"
    echo "source_paths = sdl_tracker"
    echo "also_copy ="  # the tests read docs/, policies/, ... beside the package
    for f in * .[!.]*; do case "$f" in sdl_tracker | tests | mutants | setup.cfg | .[!.]\*) ;; *) echo "    $f" ;; esac; done
    echo "only_mutate ="
    for f in ${MUTATE[$1]}; do echo "    $f"; done
    printf "pytest_add_cli_args =\n    -p\n    no:cacheprovider\n"
    echo "pytest_add_cli_args_test_selection ="
    for t in ${TESTS[$1]}; do echo "    $t"; done
  } >setup.cfg
}

canary() {  # the harness must see a broken chain: seal() hashing nothing fails the tests
  cp sdl_tracker/ledger/chain.py /tmp/chain.py.$$
  sed -i 's/digest = hashlib.sha256(body).hexdigest()/digest = hashlib.sha256(b"").hexdigest()/' \
    sdl_tracker/ledger/chain.py
  grep -q 'hashlib.sha256(b"").hexdigest()' sdl_tracker/ledger/chain.py
  if PYTHONPATH="$work" python -m pytest -x -q -p no:randomly -p no:cacheprovider -n 0 \
    tests/ledger/test_chain.py >/dev/null 2>&1; then
    cp /tmp/chain.py.$$ sdl_tracker/ledger/chain.py
    echo "harness broken: the tests passed with a broken chain.py (wrong package imported?)" >&2
    exit 2
  fi
  cp /tmp/chain.py.$$ sdl_tracker/ledger/chain.py
  rm -f /tmp/chain.py.$$
  echo "canary: a broken chain.py fails the tests (the copy is the code under test)"
}

canary
for name in "${@:-ledger}"; do
  echo "== $name: ${MUTATE[$name]}"
  rm -rf mutants
  # mutants/ must exist before Python starts: a PYTHONPATH entry that is missing then is cached
  # as "nothing here" and the installed package is imported instead (every mutant untested).
  mkdir mutants
  config "$name"
  PYTHONPATH="$work/mutants" mutmut run --max-children "$CHILDREN" || true
  mutmut results --all true >"results-$name.txt" || true
  for status in killed survived timeout suspicious "no tests" "caught by type check"; do
    printf '%s: %s\n' "$status" "$(grep -c ": $status\$" "results-$name.txt" || true)"
  done
  grep -v ': killed$' "results-$name.txt" || true
  if ! grep -q ': killed$' "results-$name.txt"; then
    echo "harness broken: no mutant of $name was killed (were the mutants imported?)" >&2
    exit 2
  fi
done
echo "copy with the mutants: $work (cd there; mutmut show NAME)"
