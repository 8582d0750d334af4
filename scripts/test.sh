#!/usr/bin/env bash
# The one test command of AnycastDns: ./scripts/test.sh [extra dotnet test arguments, e.g. --filter Knot]
#
# Installs, where missing, the real programs the tests run against (Debian 12 packages, as root):
#   knot (knotd) and knot-dnssecutils (kzonecheck): the reference server and its zone checker
#   nsd: the second reference server (with nsd-checkzone)
#   knot-dnsutils (kdig), bind9-dnsutils (dig, delv), ldnsutils (drill, ldns-signzone), python3-dnspython: clients nobody here wrote
#   bind9-utils (dnssec-keygen, dnssec-signzone): keys and Opt-Out signing for the DNSSEC test zones
#   iproute2 (ip): network namespaces for the lab tests
#   bird2 (bird, birdc): the BGP speaker the lab tests drive, a PoP and its upstream router in namespaces
#   prometheus (promtool) and python3-prometheus-client: check and parse the /metrics scrape independently
#   fstrm-bin (fstrm_capture) and golang-github-dnstap-golang-dnstap-cli (dnstap): the dnstap collector and decoder
#   podman, runc, containernetworking-plugins, debootstrap: the container lab test builds the images of deploy/docker
#     from a Debian base made with debootstrap (cached in /var/cache/anycastdns-tests) and runs them as the lab's PoPs
#   systemd (systemd-analyze) and python3-yaml: the deploy template tests verify the unit and read the zones workflow
#   clang and zlib1g-dev: the native (AOT) publish that NativeBuildTests makes links with them
#   afl++ (afl-fuzz): the coverage-guided fuzzer of the fuzz targets, with the SharpFuzz.CommandLine 2.3.0 dotnet tool
#     (restored from .config/dotnet-tools.json by scripts/fuzz.sh) that instruments the assemblies
# then runs every test of the solution and, when no arguments narrow the run, each fuzz target (respond, edns, zonefile)
# for FUZZ_SECONDS (default 30; 0 skips them) with scripts/fuzz.sh, each counted as one test. Exits non-zero when a
# test failed or a fuzz target found a crash or a hang (or could not run).
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

packages=(knot knot-dnssecutils knot-dnsutils bind9-dnsutils bind9-utils nsd ldnsutils python3-dnspython iproute2 bird2 prometheus python3-prometheus-client podman runc containernetworking-plugins debootstrap systemd python3-yaml afl++ fstrm-bin golang-github-dnstap-golang-dnstap-cli clang zlib1g-dev)
# A program each package must have put in place (the python3 ones are checked as packages only).
declare -A program=(
    [knot]=/usr/sbin/knotd [knot-dnssecutils]=/usr/bin/kzonecheck [knot-dnsutils]=/usr/bin/kdig
    [bind9-dnsutils]=/usr/bin/dig [bind9-utils]=/usr/bin/dnssec-signzone [nsd]=/usr/sbin/nsd [ldnsutils]=/usr/bin/drill
    [iproute2]=/usr/sbin/ip [bird2]=/usr/sbin/bird [prometheus]=/usr/bin/promtool [afl++]=/usr/bin/afl-fuzz
    [fstrm-bin]=/usr/bin/fstrm_capture [golang-github-dnstap-golang-dnstap-cli]=/usr/bin/dnstap
    [clang]=/usr/bin/clang [podman]=/usr/bin/podman [runc]=/usr/sbin/runc [debootstrap]=/usr/sbin/debootstrap [systemd]=/usr/bin/systemd-analyze
)

installed() {
    local package=$1
    if command -v dpkg-query >/dev/null 2>&1; then
        [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" = "install ok installed" ] || return 1
    fi
    [ -z "${program[$package]:-}" ] || [ -x "${program[$package]}" ] || command -v "$(basename "${program[$package]}")" >/dev/null 2>&1
}

missing=()
for package in "${packages[@]}"; do
    installed "$package" || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "test.sh: test tools present: ${packages[*]}"
elif [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing missing test tools: ${missing[*]}"
    apt_log=$(mktemp)
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
        tail -n 30 "$apt_log" >&2
        rm -f "$apt_log"
        echo "test.sh: apt-get could not install: ${missing[*]}" >&2
        exit 1
    fi
    rm -f "$apt_log"
    echo "test.sh: installed: ${missing[*]}"
else
    echo "test.sh: missing test tools: ${missing[*]}" >&2
    echo "test.sh: run this script as root on Debian 12, or first: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

if ! command -v dotnet >/dev/null 2>&1; then
    echo "test.sh: dotnet not found: install the .NET 10 SDK" >&2
    exit 1
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# dotnet test prints one summary per test assembly; the total is added at the end.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# A test that runs past the hang timeout has its test host killed, with every process it started.
dotnet test AnycastDns.sln \
    --logger "console;verbosity=minimal" \
    --blame-hang-timeout 10min --blame-hang-dump-type none \
    "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# The fuzz targets, each for a short bounded time, so that a change that lets an input crash or hang the responder,
# the EDNS reader or the zone-file loader fails here (a long campaign: scripts/fuzz.sh TARGET SECONDS). Skipped when
# arguments narrow the run (./scripts/test.sh --filter X) or with FUZZ_SECONDS=0.
fuzz_seconds=${FUZZ_SECONDS:-30}
if [ $# -eq 0 ] && [ "$fuzz_seconds" != 0 ]; then
    built=0
    for target in respond edns zonefile; do
        if FUZZ_BUILT=$built ./scripts/fuzz.sh "$target" "$fuzz_seconds" 2>&1 | tee -a "$log"; then
            echo "fuzz $target: Passed" | tee -a "$log"
        else
            echo "fuzz $target: Failed" | tee -a "$log"
            [ "$status" -ne 0 ] || status=1
        fi
        built=1
    done
fi

# "Passed!  - Failed:     0, Passed:    61, Skipped:     0, Total:    61, Duration: ..."
awk '
    /^(Passed|Failed)! +- Failed: / {
        gsub(",", "")
        for (i = 1; i <= NF; i++) {
            if ($i == "Failed:") failed += $(i + 1)
            if ($i == "Passed:") passed += $(i + 1)
            if ($i == "Skipped:") skipped += $(i + 1)
        }
    }
    /^fuzz [a-z]+: Passed$/ { passed++ }
    /^fuzz [a-z]+: Failed$/ { failed++ }
    END { printf "tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped }
' "$log"
exit "$status"
