#!/usr/bin/env bash
# bench/metrics-cost.sh [seconds per run] [rounds]: what the per-query metrics cost, as QPS.
# Runs the Release build of `anycastdns serve` on tests/zones twice per round, once with metrics on (the default) and
# once with --no-metrics, each under the same dnsperf load over loopback, and prints every run and the medians.
# Rounds alternate on and off so that drift of a shared machine hits both alike. Needs dnsperf (Debian: dnsperf).
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

seconds=${1:-20}
rounds=${2:-3}
command -v dnsperf >/dev/null || { echo "metrics-cost.sh: dnsperf not found (apt-get install dnsperf)" >&2; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

dotnet build -c Release -v quiet -nologo src/AnycastDns/AnycastDns.csproj -o "$work/bin" >/dev/null
# A mix of what an authoritative server sees: answers, a referral-free NXDOMAIN, MX with additional addresses.
printf '%s\n' "www.example.test A" "mail.example.test AAAA" "example.test MX" "nothere.example.test A" \
    "www.example.test TXT" "example.test SOA" > "$work/queries"
port=$(( 20000 + RANDOM % 20000 ))

# Prints the QPS dnsperf measured against the server started with "$@".
run() {
    dotnet "$work/bin/anycastdns.dll" serve --zones tests/zones --listen "127.0.0.1:$port" --pop-id bench "$@" \
        >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        grep -q "answering as" "$work/server.log" && break
        sleep 0.1
    done
    dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries" -l "$seconds" -c 4 -q 200 2>&1 \
        | awk '/Queries per second:/ { print $4 }'
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}

on=() off=()
for round in $(seq "$rounds"); do
    on+=("$(run)")
    off+=("$(run --no-metrics)")
    echo "round $round: metrics on ${on[-1]} qps, off ${off[-1]} qps"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
m_on=$(median "${on[@]}")
m_off=$(median "${off[@]}")
awk -v on="$m_on" -v off="$m_off" 'BEGIN { printf "median: metrics on %.0f qps, off %.0f qps: on is %+.1f %% of off (budget: -5 %%)\n", on, off, (on - off) * 100 / off }'
