#!/usr/bin/env bash
# Mutation testing of the trust-critical code with mutmut 3 (not run in CI: hours of CPU).
#
#   nice -n 10 benchmarks/mutation.sh                 # every target, in order of value
#   nice -n 10 benchmarks/mutation.sh gate waivers    # some targets (gate waivers approvals
#                                                     # reviews ledger stores)
#   MUTATION_BUDGET=1800 MUTATION_CHILDREN=1 nice -n 10 benchmarks/mutation.sh reviews
#   MUTATION_TIMEOUT_MULTIPLIER=3 (default): a mutant's CPU limit, in multiples of its tests' time
#   MUTATION_NAMES='sdl_tracker.gitdata.reviews.x__review__*' benchmarks/mutation.sh reviews
#                                                     # only these mutants of the target
#   MUTATION_TESTS='tests/ledger/test_chain.py' …   # another test selection (a faster first pass;
#                                   # the survivors are then checked by hand, docs/testing.md)
#
# Each target is a set of files, the mutants worth running in them (mutmut name globs: the
# functions that decide), and the test modules that exercise them. mutmut 3 runs, for each
# mutant, only the selected tests that called the mutated function (-x: the first failure
# kills it). MUTATION_BUDGET (seconds, default 3600) stops a target's run; what did not run is
# reported as "not checked" (mutmut's "not checked" status), never as killed.
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
CHILDREN="${MUTATION_CHILDREN:-1}"
BUDGET="${MUTATION_BUDGET:-3600}"
# A mutant that loops (`i += 1` -> `i = 1`) runs until mutmut's CPU limit: (the tests' time + 1)
# x TIMEOUT x 2 CPU seconds, growing its memory all along; mutmut's own factor (15) let one
# such mutant of the review globs run for 20 minutes. 3 still leaves the tests 6x their time.
TIMEOUT="${MUTATION_TIMEOUT_MULTIPLIER:-3}"

# Targets, in order of value. MUTATE: files mutmut mutates; NAMES: the mutants run (mutmut
# name globs, `x_` functions, `xǁClassǁ` methods; the rest of the file is not run: formatting,
# reports); TESTS: the pytest selection (mutmut narrows it per mutant to the tests that called
# the mutated function).
declare -A MUTATE=(
  [gate]="sdl_tracker/conformance/verdicts.py sdl_tracker/conformance/evaluate.py sdl_tracker/conformance/model.py"
  [waivers]="sdl_tracker/conformance/waivers.py"
  [approvals]="sdl_tracker/conformance/trust.py"
  [reviews]="sdl_tracker/gitdata/reviews.py"
  [ledger]="sdl_tracker/ledger/chain.py sdl_tracker/ledger/trust.py"
  [stores]="sdl_tracker/ledger/store.py sdl_tracker/ledger/dirstore.py sdl_tracker/ledger/gitstore.py sdl_tracker/ledger/history.py"
)
P=sdl_tracker.conformance
declare -A NAMES=(
  [gate]="$P.verdicts.* $P.evaluate.x_evaluate__* $P.evaluate.x_combine__* $P.evaluate.x__judge_all__*
    $P.evaluate.x__on_verdicts__* $P.evaluate.x__not_itself__* $P.evaluate.x__requirement__*
    $P.model.xǁStatusǁpasses__* $P.model.xǁConformanceǁpassed__* $P.model.xǁWaiverǁcounts__*"
  [waivers]="$P.waivers.*"
  [approvals]="$P.trust.x_approvals__* $P.trust.x_fold__* $P.trust.xǁTrustǁidentities__*
    $P.trust.x__emails__* $P.trust.x_gather__*"
  [reviews]="sdl_tracker.gitdata.reviews.*"
  [ledger]="sdl_tracker.ledger.chain.* sdl_tracker.ledger.trust.*"
  [stores]="sdl_tracker.ledger.store.* sdl_tracker.ledger.dirstore.* sdl_tracker.ledger.gitstore.*
    sdl_tracker.ledger.history.*"
)
# The unit tests only (a CLI test runs `sdl-tracker` in a real repository: 15-55 s per mutant on
# the loaded machine, where a unit test takes under one): a survivor is then checked by hand
# against the CLI tests too (docs/testing.md). Left out of the ledger tests (minutes per run
# on the 2-core machine): the two concurrent-writer stress tests (8
# processes, 250 appends each; the store tests around them cover the same append path) and the
# PostgreSQL tests (a throw-away cluster per test): PostgreSQL-only lines show as "no tests".
LEDGER="tests/ledger/test_chain.py tests/ledger/test_chain_mutants.py tests/ledger/test_trust.py
  tests/ledger/test_mutations.py tests/ledger/test_stores.py tests/ledger/test_oserrors.py
  tests/ledger/test_race.py tests/ledger/test_dirmemo.py
  --deselect tests/ledger/test_stores.py::test_concurrent_writers_lose_nothing"
declare -A TESTS=(
  [gate]="tests/conformance/test_evaluate.py tests/conformance/test_gate_mutants.py"
  [waivers]="tests/conformance/test_waivers.py tests/conformance/test_evaluate.py"
  [approvals]="tests/conformance/test_trust.py tests/cli/commands/test_approve.py"
  [reviews]="tests/gitdata/test_reviews.py tests/collectors/test_review.py"
  [ledger]="$LEDGER"
  [stores]="$LEDGER"
)

config() {  # mutmut reads [mutmut] from setup.cfg when pyproject.toml has no [tool.mutmut]
  {
    echo "[mutmut]"
    echo "source_paths = sdl_tracker"
    echo "also_copy ="  # the tests read docs/, policies/, ... beside the package
    for f in * .[!.]*; do case "$f" in sdl_tracker | tests | mutants | setup.cfg | .[!.]\*) ;; *) echo "    $f" ;; esac; done
    echo "only_mutate ="
    for f in ${MUTATE[$1]}; do echo "    $f"; done
    echo "timeout_multiplier = $TIMEOUT"
    printf "pytest_add_cli_args =\n    -p\n    no:cacheprovider\n"
    echo "pytest_add_cli_args_test_selection ="
    for t in ${MUTATION_TESTS:-${TESTS[$1]}}; do  # a test module not in this commit (yet) is left out
      case "$t" in tests/*.py) [ -e "${t%%::*}" ] || continue ;; esac
      echo "    $t"
    done
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

targets=("$@")
if [ -n "${MUTATION_NAMES:-}" ]; then  # a part of one target first (e.g. its deciding function)
  [ ${#targets[@]} -eq 1 ] || { echo "MUTATION_NAMES needs exactly one target" >&2; exit 2; }
  NAMES[${targets[0]}]="$MUTATION_NAMES"
fi
[ ${#targets[@]} -gt 0 ] || targets=(gate waivers approvals reviews ledger stores)
canary
for name in "${targets[@]}"; do
  echo "== $name: ${MUTATE[$name]}"
  rm -rf mutants
  # mutants/ must exist before Python starts: a PYTHONPATH entry that is missing then is cached
  # as "nothing here" and the installed package is imported instead (every mutant untested).
  mkdir mutants
  config "$name"
  names="${MUTATION_NAMES:-${NAMES[$name]}}"
  # shellcheck disable=SC2086 # NAMES holds globs for mutmut, not for the shell
  set -f
  PYTHONPATH="$work/mutants" timeout --signal=INT --kill-after=60 "$BUDGET" \
    mutmut run --max-children "$CHILDREN" $names || true
  mutmut results --all true >"results-all-$name.txt" || true
  : >"results-$name.txt"
  for pattern in $names; do
    sed -n "s/^ *\(.*\): \(.*\)$/\1: \2/p" "results-all-$name.txt" | while IFS= read -r line; do
      case "${line%%: *}" in $pattern) echo "$line" ;; esac
    done >>"results-$name.txt"
  done
  set +f
  echo "-- $name: $(wc -l <"results-$name.txt") mutants in scope"
  for status in killed survived timeout suspicious "no tests" "not checked" "caught by type check" segfault; do
    printf '%s: %s\n' "$status" "$(grep -c ": $status\$" "results-$name.txt" || true)"
  done
  grep -v ': killed$' "results-$name.txt" || true
  if ! grep -q ': killed$' "results-$name.txt"; then
    echo "harness broken: no mutant of $name was killed (were the mutants imported?)" >&2
    exit 2
  fi
done
echo "copy with the mutants: $work (cd there; mutmut show NAME)"
