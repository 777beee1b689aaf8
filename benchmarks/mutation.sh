#!/usr/bin/env bash
# Mutation testing of the trust-critical code with mutmut (not run in CI: hours of CPU).
#
#   benchmarks/mutation.sh                       # every target below, with its tests
#   benchmarks/mutation.sh chain                 # one target
#
# It works on a copy of the committed tree (mutmut edits files in place), prints mutmut's
# results and leaves the copy for `mutmut show ID`. Every surviving mutant needs a test that
# kills it, or a written reason in docs/performance.md ("Mutation testing").
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)/sdl-tracker"
mkdir -p "$work"
git -C "$src" archive HEAD | tar -x -C "$work"
cd "$work"
command -v mutmut >/dev/null || python -m pip install --quiet 'mutmut==2.5.1'

declare -A PATHS=(
  [chain]=sdl_tracker/ledger/chain.py
  [trust]=sdl_tracker/ledger/trust.py,sdl_tracker/ledger/history.py
  [stores]=sdl_tracker/ledger/dirstore.py,sdl_tracker/ledger/gitstore.py,sdl_tracker/ledger/__init__.py
  [waivers]=sdl_tracker/conformance/waivers.py
  [reviews]=sdl_tracker/collectors/review.py
  [gate]=sdl_tracker/conformance/verdicts.py,sdl_tracker/conformance/evaluate.py
)
declare -A TESTS=(
  [chain]="tests/ledger/test_chain.py tests/ledger/test_trust.py::test_a_repeated_sequence_number_with_a_matching_head_fails tests/ledger/test_trust.py::test_an_artifact_digest_that_is_no_sha256_is_named"
  [trust]="tests/ledger/test_trust.py tests/ledger/test_mutations.py"
  [stores]="tests/ledger/test_stores.py tests/ledger/test_oserrors.py tests/ledger/test_trust.py"
  [waivers]="tests/conformance/test_waivers.py tests/cli/commands/test_waive.py"
  [reviews]="tests/collectors/test_review.py"
  [gate]="tests/conformance tests/cli/commands/test_gate.py"
)
for target in "${@:-chain trust stores waivers reviews gate}"; do
  for name in $target; do
    echo "== $name: ${PATHS[$name]}"
    rm -f .mutmut-cache
    mutmut run --no-progress --paths-to-mutate "${PATHS[$name]}" \
      --runner "python -m pytest -x -q -p no:randomly -p no:cacheprovider -n 0 ${TESTS[$name]}" || true
    mutmut results || true
  done
done
echo "copy with the mutants' cache: $work"
