#!/usr/bin/env bash
# Runs one coverage-guided fuzz target of AnycastDns (SharpFuzz + AFL++) for a bounded time:
#
#     ./scripts/fuzz.sh TARGET SECONDS        e.g. ./scripts/fuzz.sh respond 3600
#
# Targets (fuzz/AnycastDns.Fuzz): respond (queries to Responder.Respond over the test zones), edns (the OPT record and
# its options), zonefile (the zone-file loader). Exits 0 when afl-fuzz ran for SECONDS and found no crash and no hang;
# 1 when it found any (their files are listed, and replayed to show each exception) or could not run; 2 for bad
# arguments. Seeds: fuzz/corpus/TARGET and fuzz/corpus/regressions/TARGET (inputs that once failed). Work folder:
# artifacts/fuzz/ (FUZZ_WORK): the build, the instrumented copy, and TARGET/findings of the last run.
#
# Installs, where missing: afl++ (Debian package, as root with apt-get) and SharpFuzz.CommandLine 2.3.0 (a local dotnet
# tool, .config/dotnet-tools.json). Environment: FUZZ_TIMEOUT_MS (one run's time limit, default 5000: longer is a hang);
# FUZZ_BUILT=1 reuses the last build (scripts/test.sh runs the three targets on one build).
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
root=$(pwd)

targets=(respond edns zonefile)
usage() {
    echo "usage: scripts/fuzz.sh <${targets[*]// /|}> SECONDS" >&2
    exit 2
}
[ $# -eq 2 ] || usage
target=$1
seconds=$2
[[ " ${targets[*]} " == *" $target "* ]] || usage
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || usage
timeout_ms=${FUZZ_TIMEOUT_MS:-5000}
work=${FUZZ_WORK:-$root/artifacts/fuzz}
say() { echo "fuzz.sh $target: $*"; }

# --- tools ------------------------------------------------------------------------------------------------------------
if ! command -v afl-fuzz >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing afl++"
        log=$(mktemp)
        if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends afl++; } >"$log" 2>&1; then
            tail -n 20 "$log" >&2
            rm -f "$log"
            say "apt-get could not install afl++" >&2
            exit 1
        fi
        rm -f "$log"
    else
        say "afl-fuzz not found: run as root on Debian 12, or first: sudo apt-get install --no-install-recommends afl++" >&2
        exit 1
    fi
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if ! dotnet tool run sharpfuzz >/dev/null 2>&1; then
    say "restoring the sharpfuzz tool (.config/dotnet-tools.json)"
    dotnet tool restore >/dev/null
fi

# --- build and instrument ---------------------------------------------------------------------------------------------
# The plain build replays inputs; a copy with the DNS assemblies instrumented runs under afl-fuzz. Instrumenting
# rewrites the files in place, so it is done on a fresh copy, and only when the build changed.
mkdir -p "$work"
if [ "${FUZZ_BUILT:-0}" = 1 ] && [ -f "$work/build/AnycastDns.Fuzz.dll" ]; then
    say "using the build in $work/build (FUZZ_BUILT=1)"
elif say "building fuzz/AnycastDns.Fuzz" && ! dotnet publish fuzz/AnycastDns.Fuzz -c Release -o "$work/build" --nologo -v quiet >"$work/build.log" 2>&1; then
    grep -E "error|Error" "$work/build.log" | sort -u | head -n 30 >&2
    say "the build failed (log: $work/build.log)" >&2
    exit 1
fi
instrumented_assemblies=(AnycastDns.Protocol.dll AnycastDns.Zones.dll AnycastDns.Authority.dll)
stamp=$(cd "$work/build" && sha256sum AnycastDns.Fuzz.dll "${instrumented_assemblies[@]}" | sha256sum | cut -c1-16)
if [ "$(cat "$work/instrumented/.stamp" 2>/dev/null || true)" != "$stamp" ]; then
    say "instrumenting ${instrumented_assemblies[*]}"
    rm -rf "$work/instrumented"
    cp -a "$work/build" "$work/instrumented"
    for assembly in "${instrumented_assemblies[@]}"; do
        dotnet tool run sharpfuzz "$work/instrumented/$assembly" >/dev/null
    done
    echo "$stamp" >"$work/instrumented/.stamp"
fi

# --- seeds ------------------------------------------------------------------------------------------------------------
out="$work/$target"
rm -rf "$out"
mkdir -p "$out/seeds" "$out/scratch"
cp fuzz/corpus/"$target"/* "$out/seeds/"
if [ -d "fuzz/corpus/regressions/$target" ] && [ -n "$(ls -A "fuzz/corpus/regressions/$target")" ]; then
    for file in fuzz/corpus/regressions/"$target"/*; do
        cp "$file" "$out/seeds/regression-$(basename "$file")"
    done
fi
# Every seed, regressions first among them, must pass before the campaign: a failure here is a regression, shown with
# its exception (afl-fuzz would only refuse to start).
export ANYCASTDNS_FUZZ_SCRATCH="$out/scratch"
if ! dotnet "$work/build/AnycastDns.Fuzz.dll" "$target" "$out"/seeds/* >"$out/seeds.log" 2>&1; then
    grep -A 12 "FAILED" "$out/seeds.log" | head -n 80 >&2
    say "seed inputs fail (log: $out/seeds.log)" >&2
    exit 1
fi

# --- fuzz -------------------------------------------------------------------------------------------------------------
dictionary=()
[ -f "fuzz/dictionaries/$target.dict" ] && dictionary=(-x "fuzz/dictionaries/$target.dict")
say "afl-fuzz for $seconds s ($(ls "$out/seeds" | wc -l) seeds)"
# No UI; no CPU governor or core-dump handler demands (a shared machine, a container); dotnet is not an instrumented
# binary, the assemblies it loads are; no pinning to a core another job may hold; the first start loads zones.
status=0
AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 \
    AFL_FORKSRV_INIT_TMOUT=120000 AFL_SHUFFLE_QUEUE=0 \
    afl-fuzz -i "$out/seeds" -o "$out/findings" -t "$timeout_ms" -m none -V "$seconds" "${dictionary[@]}" \
    -- dotnet "$work/instrumented/AnycastDns.Fuzz.dll" "$target" >"$out/afl.log" 2>&1 || status=$?

stats="$out/findings/default/fuzzer_stats"
if [ ! -f "$stats" ]; then
    tail -n 40 "$out/afl.log" >&2
    say "afl-fuzz did not run (exit $status; log: $out/afl.log)" >&2
    exit 1
fi
stat() { awk -F' *: *' -v key="$1" '$1 == key { print $2 }' "$stats"; }
crashes=$(find "$out/findings/default/crashes" -type f -name 'id:*' 2>/dev/null | sort)
hangs=$(find "$out/findings/default/hangs" -type f -name 'id:*' 2>/dev/null | sort)
say "$(stat execs_done) executions in $(stat run_time) s ($(stat execs_per_sec)/s), corpus $(stat corpus_count), edges $(stat edges_found) of $(stat total_edges) ($(stat bitmap_cvg)), stability $(stat stability), crashes $(stat saved_crashes), hangs $(stat saved_hangs)"
if [ -n "$crashes" ] || [ -n "$hangs" ]; then
    [ -z "$crashes" ] || { say "crashing inputs:" >&2; echo "$crashes" >&2; }
    [ -z "$hangs" ] || { say "inputs that ran over ${timeout_ms} ms:" >&2; echo "$hangs" >&2; }
    if [ -n "$crashes" ]; then
        # shellcheck disable=SC2086 # one path per line, no blanks in afl-fuzz's names
        dotnet "$work/build/AnycastDns.Fuzz.dll" "$target" $crashes 2>&1 | grep -A 12 "FAILED" | head -n 60 >&2 || true
    fi
    say "FAILED: copy each input to fuzz/corpus/regressions/$target/ once its cause is fixed" >&2
    exit 1
fi
if [ "$status" -ne 0 ]; then
    tail -n 40 "$out/afl.log" >&2
    say "afl-fuzz exited with status $status (log: $out/afl.log)" >&2
    exit 1
fi
say "passed"
