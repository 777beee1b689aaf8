#!/usr/bin/env bash
# Regenerates the fuzzer outputs beside it with real fuzzers (Debian: apt-get install clang afl++).
# They are test inputs of tests/collectors/test_fuzzing.py, committed because CI has neither clang
# nor AFL++; the atheris runs are made live by the tests themselves.
set -euo pipefail
cd "$(dirname "$0")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# libFuzzer (clang 14): a clean 20-second run, a leak, a timeout, and a replay of one input.
clang -g -fsanitize=fuzzer,address modbus_frame.c -o "$work/clean"
clang -g -fsanitize=fuzzer,address -DLEAK modbus_frame.c -o "$work/leak"
clang -g -fsanitize=fuzzer,address -DHANG modbus_frame.c -o "$work/hang"
mkdir -p "$work/art" "$work/corpus"
printf 'MB0' >"$work/corpus/frame"
"$work/clean" -seed=1 -max_total_time=20 -print_final_stats=1 -artifact_prefix="$work/art/" >libfuzzer-clean.log 2>&1
"$work/leak" -seed=1 -runs=1000000 -print_final_stats=1 -artifact_prefix="$work/art/" >libfuzzer-leak.log 2>&1 || true
"$work/hang" -seed=1 -runs=1000000 -timeout=2 -print_final_stats=1 -artifact_prefix="$work/art/" >libfuzzer-timeout.log 2>&1 || true
"$work/clean" -print_final_stats=1 "$work/corpus/frame" >libfuzzer-replay.log 2>&1
# -fork=2: a clean run; a leak that stops it (the job's own log printed, naming the input); leaks
# it counts and goes on past (-ignore_crashes=1); timeouts (fork mode goes on past them by
# default). Going on, it names none of the inputs it saves under -artifact_prefix.
"$work/clean" -seed=1 -fork=2 -max_total_time=20 -print_final_stats=1 -artifact_prefix="$work/art/" >libfuzzer-fork-clean.log 2>&1
"$work/leak" -seed=1 -fork=2 -max_total_time=15 -print_final_stats=1 -artifact_prefix="$work/art/" >libfuzzer-fork-stop.log 2>&1 || true
"$work/leak" -seed=1 -fork=2 -ignore_crashes=1 -max_total_time=15 -print_final_stats=1 -artifact_prefix="$work/art/" >libfuzzer-fork-leak.log 2>&1 || true
"$work/hang" -seed=1 -fork=2 -timeout=2 -max_total_time=20 -print_final_stats=1 -artifact_prefix="$work/art/" >libfuzzer-fork-timeout.log 2>&1 || true
# -jobs=2 -workers=2: each job writes fuzz-N.log, which the main process prints when the job exits.
mkdir -p "$work/jobs"
(cd "$work/jobs" && "$work/clean" -seed=1 -jobs=2 -workers=2 -max_total_time=20 -print_final_stats=1 -artifact_prefix="$work/art/") >libfuzzer-jobs.log 2>&1

# AFL++ 4.04c: a clean 15-second run and one that saves a crash; fuzzer_stats and crashes/ kept.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
afl-clang-fast afl_frame.c -o "$work/afl_clean"
afl-clang-fast -DCRASH afl_frame.c -o "$work/afl_crash"
mkdir -p "$work/in"
printf 'MA0' >"$work/in/seed"
for run in clean crash; do
  afl-fuzz -V 15 -s 1 -i "$work/in" -o "$work/out-$run" -- "$work/afl_$run" >/dev/null
  rm -rf "afl-$run"
  mkdir -p "afl-$run/crashes"
  cp "$work/out-$run/default/fuzzer_stats" "afl-$run/"
  # AFL++ names crash files id:NNNNNN,sig:..; ':' cannot be checked out on Windows, so renumber.
  n=0
  for f in "$work/out-$run/default/crashes"/id:*; do
    [ -e "$f" ] || continue
    cp "$f" "afl-$run/crashes/crash-$n"
    n=$((n + 1))
  done
done
