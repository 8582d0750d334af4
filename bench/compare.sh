#!/usr/bin/env bash
# Side by side: AnycastDns, Knot DNS and NSD on loopback, the same generated zone and query list, measured in one run.
#
#   bench/compare.sh [options]
#     --names N          names in the zone dnsperf runs against (default 10000)
#     --duration S       seconds per dnsperf run (default 10)
#     --latency-duration S  seconds of the dnsperf -v run the p99 latency comes from (default 4)
#     --warmup S         seconds of dnsperf before each measured run, untimed (default 2: .NET's tiered JIT)
#     --rounds N         measure every server N times, round by round, to see the noise, and print each one's medians
#                        over the rounds (default 1); the zone load too
#     --clients N        dnsperf -c (default 8); -T 1 -q 500 as issue 5 says
#     --workers N        server threads: Knot udp-workers and tcp-workers, NSD server-count, AnycastDns
#                        --udp-receive-loops (default 1: one core each, so CPU per query compares like with like)
#     --load-names N     names in the zone-load comparison (default 1000000; 0 skips it)
#     --only-load        the zone-load comparison alone
#     --memory-limit MiB the zone load (and --zones) with each server in a memory cgroup of that size (cgroup v2 memory.max
#                        or v1 memory.limit_in_bytes; .NET then gives its GC 75 % of it, as in a container); where no
#                        cgroup can be made, AnycastDns gets DOTNET_GCHeapHardLimit at 75 % and Knot and NSD no limit.
#                        A server that does not load within the limit is reported with its last log line, not a stop
#     --zones N          the many-zones comparison: N generated small zones (ten records each, one file per zone), per
#                        server the time from start to the right answer for the last zone, the memory 5 s later and once it has settled;
#                        runs alone (no query or load comparison); may be given as a list, e.g. --zones 10000,100000
#     --edit-one         with --zones: once settled, one zone of the N (z<N/2>) gets one record more and its serial + 1 in
#                        its file (renamed over the old) while bench/pause.py asks www.z5.example. every ms: the time to
#                        the new record's first answer, the longest wait, VmHWM over the edit and RSS 5 s after. AnycastDns
#                        reloads by its watch of the folder (no signal: the time counts from the rename), Knot by knotc
#                        zone-reload of that zone, NSD by SIGHUP (its remote control is off here)
#     --transfer-names N names in the zone-transfer comparison (default 0: skipped; the README's figures use 1000000):
#                        per server, the time of one AXFR to bench/axfr.py (a client that reads without decoding), its
#                        memory idle and at its peak during transfers, and UDP QPS idle and while AXFRs run back to back
#     --transfer-in-names N  names in the zone-transfer-in comparison (default 0: skipped; the README's figures use
#                        1000000): Knot serves the zone as the hidden primary (NOTIFY to the secondary, IXFR from its
#                        journal); per server (anycastdns, knot, nsd of --servers) the time from start to the first
#                        right answer for the zone's last name and the memory, loaded from the file and as a secondary
#                        started with an empty state; then, as a secondary, while bench/pause.py asks a query every ms,
#                        one record is added on Knot (knotc zone-set + zone-commit, serial + 1): the time from the
#                        commit to the new answer (NOTIFY, SOA check, IXFR, apply), the longest wait for an answer, and
#                        VmHWM over the update (reset through /proc/PID/clear_refs before it). Alone:
#                        --only-load --load-names 0 --transfer-in-names N
#     --reload-names N   names in the zone-reload comparison (default 0: skipped; issue 20 uses 1000000): per server
#                        (anycastdns, knot, nsd, baseline of --servers), the zone loaded from its own copy of the file;
#                        5 s later one record is added to that file with the serial + 1 and the server told to reload
#                        (AnycastDns and NSD SIGHUP, Knot knotc zone-reload) while bench/pause.py asks a query every ms:
#                        the time from the signal to the new name's first answer, the longest wait for an answer,
#                        VmHWM over the reload (reset through /proc/PID/clear_refs before it) and RSS 5 s after.
#                        Alone: --only-load --load-names 0 --reload-names N
#     --reloads N        with --reload-names: N reloads in a row in each server process (default 1), each adding one
#                        record (edit1, edit2, ...) and measured alike, 5 s apart after the last one's figures; a row each
#     --servers LIST     comma-separated subset of anycastdns,knot,nsd,unprotected,aot (default the first three);
#                        anycastdns runs with response rate limiting on and loopback not exempt (--rrl-exempt none,
#                        a rate of 1,000,000 a second per bucket, which no run reaches: the cost of the check, never a limit);
#                        "unprotected" is the same build with rate limiting off (--rrl-rate 0), to see that cost;
#                        "aot" the same source published as native code (dotnet publish -p:PublishAot=true), run as
#                        anycastdns is; "dnstap" the same build as anycastdns sending dnstap (--dnstap-socket) to fstrm_capture
#     --dnstap           add the server "dnstap" (see --servers): AnycastDns with every query and response sent as dnstap
#                        over Frame Streams to an fstrm_capture (fstrm-bin) writing to /dev/null, its frame count printed
#                        at the end; compare its QPS and CPU per query with "anycastdns" in the same run
#     --mix M            the query list: mixed (default; 45 % hits, 20 % NXDOMAIN, the rest CNAME, NODATA, wildcard,
#                        referral), positive (hits only) or nxdomain (random missing names); see bench/gen.py
#     --cookie           every query carries a DNS client cookie (dnsperf -E 10:...): AnycastDns makes a server
#                        cookie for each (SipHash-2-4); Knot and NSD as configured here ignore the option
#     --baseline REV     also measure AnycastDns as of git revision REV (built in a temporary worktree), as the
#                        server "baseline": before and after a change, in one run
#     --keep             keep the temporary folder (zones, configurations, logs, raw dnsperf output)
#
# Installs dnsperf, knot, knot-dnsutils (kdig) and nsd with apt-get where missing (as root; apt-get update first when
# a package is unknown), builds AnycastDns in Release, and stops only the processes it started, by PID, on exit.
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
repo=$PWD
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 LC_ALL=C

names=10000 duration=10 latency_duration=4 warmup=2 rounds=1 clients=8 workers=1 load_names=1000000 only_load=0 keep=0
transfer_names=0 transfer_in_names=0 reload_names=0 reloads=1 many_zones= memory_limit= edit_one=0
servers=anycastdns,knot,nsd baseline= mix=mixed cookie=() dnstap=0
while [ $# -gt 0 ]; do
    case $1 in
        --names) names=$2; shift ;;
        --duration) duration=$2; shift ;;
        --latency-duration) latency_duration=$2; shift ;;
        --warmup) warmup=$2; shift ;;
        --rounds) rounds=$2; shift ;;
        --clients) clients=$2; shift ;;
        --workers) workers=$2; shift ;;
        --load-names) load_names=$2; shift ;;
        --only-load) only_load=1 ;;
        --edit-one) edit_one=1 ;;
        --zones) many_zones=$2; shift ;;
        --memory-limit) memory_limit=$2; shift ;;
        --transfer-names) transfer_names=$2; shift ;;
        --transfer-in-names) transfer_in_names=$2; shift ;;
        --reload-names) reload_names=$2; shift ;;
        --reloads) reloads=$2; shift ;;
        --servers) servers=$2; shift ;;
        --baseline) baseline=$2; shift ;;
        --mix) mix=$2; shift ;;
        --cookie) cookie=(-E 10:a1b2c3d4e5f60718) ;;
        --dnstap) dnstap=1 ;;
        --keep) keep=1 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
IFS=, read -r -a server_list <<<"$servers"
[ -z "$baseline" ] || server_list=(baseline "${server_list[@]}")
[ $dnstap -eq 0 ] || [[ " ${server_list[*]} " == *" dnstap "* ]] || server_list+=(dnstap)
[[ " ${server_list[*]} " == *" dnstap "* ]] && dnstap=1

die() { echo "compare.sh: $*" >&2; exit 1; }
say() { echo "compare.sh: $*" >&2; }

# ---- tools ---------------------------------------------------------------------------------------------------------

declare -A program=([dnsperf]=/usr/bin/dnsperf [knot]=/usr/sbin/knotd [knot-dnsutils]=/usr/bin/kdig [nsd]=/usr/sbin/nsd [fstrm-bin]=/usr/bin/fstrm_capture)

install_tools() {
    local missing=() package
    local wanted=(dnsperf knot knot-dnsutils nsd)
    [ $dnstap -eq 0 ] || wanted+=(fstrm-bin)
    for package in "${wanted[@]}"; do
        [ -x "${program[$package]}" ] || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 \
        || die "missing ${missing[*]}: run as root on Debian 12, or first: sudo apt-get install --no-install-recommends ${missing[*]}"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    local log=$work/apt.log
    # A fresh machine has empty package lists: a package apt does not know yet needs an update first.
    for package in "${missing[@]}"; do
        if ! apt-cache show "$package" >/dev/null 2>&1; then
            apt-get update -qq >"$log" 2>&1 || { tail -n 20 "$log" >&2; die "apt-get update failed"; }
            break
        fi
    done
    # policy-rc.d exit 101 keeps the packages' own knot and nsd services from starting on port 53 during install.
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [ ! -e $policy ]; then
        printf '#!/bin/sh\nexit 101\n' >$policy && chmod +x $policy && created_policy=1
    fi
    local status=0
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1 || status=$?
    [ $created_policy -eq 0 ] || rm -f $policy
    [ $status -eq 0 ] || { tail -n 20 "$log" >&2; die "apt-get could not install ${missing[*]}"; }
    for package in "${missing[@]}"; do
        [ -x "${program[$package]}" ] || die "$package installed but ${program[$package]} is not there"
    done
}

# ---- processes -----------------------------------------------------------------------------------------------------

work=$(mktemp -d /tmp/anycastdns-compare.XXXXXX)
started=()
collector_pid=

cleanup() {
    local pid
    for pid in "${started[@]}"; do
        stop_server "$pid"
    done
    # The dnstap collector last, after the servers said STOP: its last line counts the frames it received.
    if [ -n "$collector_pid" ]; then
        stop_server "$collector_pid"
        say "dnstap collector: $(tail -n 1 "$work/fstrm.log")"
    fi
    leave_cgroup
    [ ! -d "$work/baseline-src" ] || git -C "$repo" worktree remove --force "$work/baseline-src" 2>/dev/null || true
    if [ $keep -eq 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# SIGTERM, then SIGKILL after 10 s. Only PIDs this script started reach here; their own children (NSD's server and
# xfrd processes) are stopped by them.
stop_server() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

forget() {
    local pid=$1 kept=() p
    for p in "${started[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
    started=("${kept[@]}")
}

# A port free for both UDP and TCP on 127.0.0.1, and not handed out before in this run.
used_ports=" "
free_port() {
    local port
    while true; do
        port=$(python3 -c '
import socket
t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", p))
print(p)')
        case $used_ports in *" $port "*) continue ;; esac
        used_ports+="$port "
        echo "$port"
        return
    done
}

# PID and every descendant's PID.
process_tree() {
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
        { s = $0; sub(/^.*\) /, "", s); split(s, f, " "); parent[$1] = f[2] }
        END {
            tree[root] = 1; print root
            do { grew = 0; for (p in parent) if (!(p in tree) && (parent[p] in tree)) { tree[p] = 1; print p; grew = 1 } } while (grew)
        }'
}

# CPU seconds (user + system, threads included, reaped children too) of a process and its descendants.
cpu_seconds() {
    local pid files=()
    for pid in $(process_tree "$1"); do files+=("/proc/$pid/stat"); done
    cat "${files[@]}" 2>/dev/null | awk -v hz="$(getconf CLK_TCK)" '
        { s = $0; sub(/^.*\) /, "", s); split(s, f, " "); t += f[12] + f[13] + f[14] + f[15] }
        END { printf "%.3f\n", t / hz }'
}

# Memory after load, MiB: "largest VmRSS, largest VmHWM, PSS summed over the process tree". NSD forks its server
# and xfrd processes from the loaded main process; they share its pages, so the plain sum of RSS would count the zone
# three times and PSS (each shared page divided among its sharers) is the fair total.
memory_mib() {
    local pid rss=0 hwm=0 pss=0 v
    for pid in $(process_tree "$1"); do
        v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0); [ "${v:-0}" -gt $rss ] && rss=$v
        v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0); [ "${v:-0}" -gt $hwm ] && hwm=$v
        v=$(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0); pss=$((pss + ${v:-0}))
    done
    echo "$((rss / 1024)) $((hwm / 1024)) $((pss / 1024))"
}

# VmRSS (MiB) of the largest process once it has settled (10 samples a second apart within 2 % of their mean, at most
# 60 s), and the seconds from <start> (date +%s%N) when it had: "rss seconds".
settled_rss() {
    local pid=$1 start=$2 samples=() i
    for i in $(seq 60); do
        read -r v _ _ <<<"$(memory_mib "$pid")"
        samples+=("$v")
        # Ten seconds: the native build sat at its peak for five while the zones' digests were made, then fell by 70 %.
        if [ ${#samples[@]} -ge 10 ]; then
            samples=("${samples[@]: -10}")
            if printf '%s\n' "${samples[@]}" | awk '{ s += $1; v[NR] = $1 } END { m = s / NR; for (i = 1; i <= NR; i++) if (v[i] > m * 1.02 || v[i] < m * 0.98) exit 1 }'; then
                break
            fi
        fi
        sleep 1
    done
    echo "${samples[-1]} $((($(date +%s%N) - start) / 1000000000))"
}

# ---- memory limit --------------------------------------------------------------------------------------------------

# With --memory-limit, every server runs in a memory cgroup of its own made for it (cgroup_dir), so that its peak and
# the limit are its alone. cgroup v2 (memory.max) where the memory controller is enabled, else v1; else none, and
# AnycastDns alone gets the heap limit .NET would take from a container (75 %).
cgroup_dir=
cgroup_kind=
find_cgroup_kind() {
    [ -n "$memory_limit" ] || return 0
    if [ -f /sys/fs/cgroup/cgroup.subtree_control ] && grep -qw memory /sys/fs/cgroup/cgroup.subtree_control; then
        cgroup_kind=v2
    elif [ -d /sys/fs/cgroup/memory ] && [ -w /sys/fs/cgroup/memory ]; then
        cgroup_kind=v1
    else
        cgroup_kind=none
        say "no memory cgroup can be made here: AnycastDns gets DOTNET_GCHeapHardLimit at 75 % of $memory_limit MiB, Knot and NSD no limit"
    fi
}

enter_cgroup() {
    leave_cgroup
    case $cgroup_kind in
        v2) cgroup_dir=/sys/fs/cgroup/anycastdns-compare-$$-$1; mkdir "$cgroup_dir"; echo $((memory_limit << 20)) >"$cgroup_dir/memory.max" ;;
        v1) cgroup_dir=/sys/fs/cgroup/memory/anycastdns-compare-$$-$1; mkdir "$cgroup_dir"; echo $((memory_limit << 20)) >"$cgroup_dir/memory.limit_in_bytes" ;;
    esac
}

# Removes the cgroup once its processes are gone (stopped by PID before this).
leave_cgroup() {
    [ -n "$cgroup_dir" ] || return 0
    local i
    for i in $(seq 50); do rmdir "$cgroup_dir" 2>/dev/null && break; sleep 0.1; done
    cgroup_dir=
}

# Runs a server program (exec: its PID is the caller's $!) inside the current cgroup, if any.
limited() {
    [ -z "$cgroup_dir" ] || echo "$BASHPID" >"$cgroup_dir/cgroup.procs"
    exec "$@"
}

# ", killed by the kernel for memory (N)" when the cgroup counted OOM kills.
oom_kills() {
    local n=0
    case $cgroup_kind in
        v2) n=$(awk '$1 == "oom_kill" { print $2 }' "$cgroup_dir/memory.events" 2>/dev/null || echo 0) ;;
        v1) n=$(awk '$1 == "oom_kill" { print $2 }' "$cgroup_dir/memory.oom_control" 2>/dev/null || echo 0) ;;
    esac
    [ "${n:-0}" -eq 0 ] || echo ", killed by the kernel for memory ($n)"
}

# The heap limit for AnycastDns where no cgroup gives it one.
heap_limit_env() {
    if [ "$cgroup_kind" = none ]; then printf 'DOTNET_GCHeapHardLimit=0x%x' $(((memory_limit << 20) * 3 / 4)); else echo "ANYCASTDNS_COMPARE=1"; fi
}

# Waits like wait_for_answer but returns 1 instead of stopping the comparison when the server died or did not answer;
# failure_reason says why (the log's last line).
answers_within() {
    local pid=$1 port=$2 name=$3 address=$4 seconds=$5 dir=$6
    local deadline=$((SECONDS + seconds))
    failure_reason=
    while [ $SECONDS -lt $deadline ]; do
        python3 "$repo/bench/probe.py" "$port" "$name" "$address" 1 && return 0
        # AnycastDns keeps running without a zone that did not fit (serving the others, withdrawn) and says so once.
        if grep -q "not enough memory to load" "$dir/server.log" 2>/dev/null; then
            failure_reason="$(grep -o "error: not enough memory.*" "$dir/server.log" | head -n 1 | cut -c1-200)"
            return 1
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            failure_reason="exited$(oom_kills): $(grep -v '^[[:space:]]*$' "$dir/server.log" | grep -v '^   at ' | tail -n 1 | cut -c1-200)"
            return 1
        fi
    done
    failure_reason="no answer within $seconds s: $(tail -n 1 "$dir/server.log" | cut -c1-200)"
    return 1
}

# ---- servers -------------------------------------------------------------------------------------------------------

# start_<server> <folder> <zone file> <port>: starts it in the background and prints its PID.
start_knot() {
    local dir=$1 zone=$2 port=$3
    mkdir -p "$dir/db"
    cat >"$dir/knot.conf" <<EOF
server:
    rundir: "$dir"
    pidfile: "$dir/knot.pid"
    listen: 127.0.0.1@$port
    udp-workers: $workers
    tcp-workers: $workers
    background-workers: 1
control:
    listen: "$dir/knot.sock"
$([ "${XFR:-0}" = 1 ] && printf 'acl:\n  - id: xfr\n    address: 127.0.0.1\n    action: transfer\n')
database:
    storage: "$dir/db"
log:
  - target: stderr
    any: notice
template:
  - id: default
    semantic-checks: off
    zonefile-load: whole
    zonefile-sync: -1
    journal-content: none
$([ "${XFR:-0}" = 1 ] && printf '    acl: xfr\n')
zone:
  - domain: bench.test.
    file: "$zone"
EOF
    limited /usr/sbin/knotd -c "$dir/knot.conf" >"$dir/server.log" 2>&1 &
    echo $!
}

start_nsd() {
    local dir=$1 zone=$2 port=$3
    cat >"$dir/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$port
    do-ip6: no
    server-count: $workers
    reuseport: no
    username: ""
    chroot: ""
    zonesdir: "$dir"
    database: ""
    pidfile: "$dir/nsd.pid"
    xfrdfile: "$dir/xfrd.state"
    xfrdir: "$dir"
    zonelistfile: "$dir/zone.list"
    logfile: "$dir/server.log"
    verbosity: 1
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: bench.test.
    zonefile: "$zone"
$([ "${XFR:-0}" = 1 ] && printf '    provide-xfr: 127.0.0.1 NOKEY\n')
EOF
    # -d: foreground; nsd still forks its server and xfrd processes, which it stops when it gets SIGTERM.
    limited /usr/sbin/nsd -d -c "$dir/nsd.conf" >>"$dir/server.log" 2>&1 &
    echo $!
}

anycastdns_dll=$repo/src/AnycastDns/bin/Release/net10.0/anycastdns.dll
baseline_dll=$work/baseline-src/src/AnycastDns/bin/Release/net10.0/anycastdns.dll
aot_bin=$work/aot/anycastdns

# start_dotnet <dll> <folder> <zone file> <port> [more serve options]
# "dotnet" for an assembly; nothing for the native (AOT) executable, which runs itself.
runner() { [[ $1 != *.dll ]] || echo dotnet; }

start_dotnet() {
    local dll=$1 dir=$2 zone=$3 port=$4; shift 4
    mkdir -p "$dir/zones"
    ln -sf "$zone" "$dir/zones/bench.test.zone"
    # No limit on answers per TCP connection, as Knot and NSD have none: dnsperf keeps its 8 connections all run long.
    limited env "$(heap_limit_env)" $(runner "$dll") "$dll" serve --zones "$dir/zones" --listen "127.0.0.1:$port" --pop-id bench --no-watch \
        --udp-receive-loops "$workers" --tcp-max-queries 0 "$@" >"$dir/server.log" 2>&1 &
    echo $!
}

# Rate limiting on, every query checked (loopback is exempt by default), at a rate no run reaches.
start_anycastdns() { start_dotnet "$anycastdns_dll" "$@" --rrl-exempt none --rrl-rate 1000000 $(xfr_option); }

# As anycastdns, with dnstap to the collector start_collector started.
start_dnstap() { start_dotnet "$anycastdns_dll" "$@" --rrl-exempt none --rrl-rate 1000000 --dnstap-socket "$work/dnstap.sock" $(xfr_option); }

# fstrm_capture on $work/dnstap.sock, writing to /dev/null: a collector that keeps up and keeps nothing.
start_collector() {
    /usr/bin/fstrm_capture -t protobuf:dnstap.Dnstap -u "$work/dnstap.sock" -w /dev/null >"$work/fstrm.log" 2>&1 &
    collector_pid=$!
    local i
    for i in $(seq 50); do
        [ -S "$work/dnstap.sock" ] && return 0
        sleep 0.1
    done
    cat "$work/fstrm.log" >&2
    die "fstrm_capture did not open $work/dnstap.sock"
}

start_unprotected() { start_dotnet "$anycastdns_dll" "$@" --rrl-rate 0 $(xfr_option); }

start_baseline() { start_dotnet "$baseline_dll" "$@" $(xfr_option); }

# The same source published as native code (dotnet publish -p:PublishAot=true): no JIT, no dynamic PGO.
start_aot() { start_dotnet "$aot_bin" "$@" --rrl-exempt none --rrl-rate 1000000 $(xfr_option); }

# With XFR=1 (the transfer comparison), every server lets 127.0.0.1 transfer the zone.
xfr_option() { [ "${XFR:-0}" = 1 ] && echo "--allow-transfer 127.0.0.1/32" || true; }

# Waits until the server answers <name> A with <address> (NOERROR, AA), at most <seconds>; fails if it died or never
# did. bench/probe.py asks every 10 ms with a 50 ms timeout, in slices of a second between which the PID is checked.
wait_for_answer() {
    local server=$1 pid=$2 port=$3 name=$4 address=$5 seconds=$6 dir=$7
    local deadline=$((SECONDS + seconds))
    while [ $SECONDS -lt $deadline ]; do
        python3 "$repo/bench/probe.py" "$port" "$name" "$address" 1 && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$dir/server.log" >&2
            die "$server exited before answering $name (log above, from $dir/server.log)"
        fi
    done
    tail -n 20 "$dir/server.log" >&2
    die "$server did not answer $name A $address within $seconds s: did it load the zone? (log above)"
}

# Checks the answers every server must give before it is measured: an authoritative A at the zone's start and end,
# NXDOMAIN, a wildcard, a referral. A server that runs but serves something else stops the comparison here.
verify_server() {
    local server=$1 port=$2 out
    check() {
        local what=$1 pattern=$2; shift 2
        out=$(/usr/bin/kdig @127.0.0.1 -p "$port" +time=2 +retry=1 "$@" 2>&1) || true
        grep -Eq "$pattern" <<<"$out" || { echo "$out" >&2; die "$server answers $what wrongly (expected /$pattern/; kdig output above)"; }
    }
    check "www A" 'Flags: qr aa.*ANSWER: 1;' www.bench.test. A
    check "www A" 'www\.bench\.test\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+A[[:space:]]+192\.0\.2\.80' www.bench.test. A
    check "last A" 'last\.bench\.test\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+A[[:space:]]+192\.0\.2\.254' last.bench.test. A
    check "a missing name" 'status: NXDOMAIN' nx-verify.bench.test. A
    check "a wildcard" 'x\.w7\.bench\.test\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.0\.0\.7' x.w7.bench.test. A
    check "a referral" 'AUTHORITY: 1.*|d8\.bench\.test\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+NS[[:space:]]+ns\.d8\.bench\.test\.' www.d8.bench.test. A
    check "a TCP query" 'www\.bench\.test\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+A[[:space:]]+192\.0\.2\.80' +tcp www.bench.test. A
}

# ---- main ----------------------------------------------------------------------------------------------------------

install_tools
find_cgroup_kind
command -v python3 >/dev/null 2>&1 || die "python3 not found (Debian: /usr/bin/python3)"
command -v dotnet >/dev/null 2>&1 || die "dotnet not found: install the .NET 10 SDK"
say "building AnycastDns (Release)"
dotnet build -c Release -nologo -v q "$repo/src/AnycastDns/AnycastDns.csproj" >"$work/build.log" 2>&1 \
    || { tail -n 30 "$work/build.log" >&2; die "build failed"; }
[ -f "$anycastdns_dll" ] || die "$anycastdns_dll not built"
if [[ " ${server_list[*]} " == *" aot "* ]]; then
    say "publishing AnycastDns as native code (PublishAot)"
    # With GCPAUSES_FILE set (bench/README.md, "GC pauses") the native build has the pause listener compiled in.
    dotnet publish -c Release -nologo -v q -r linux-x64 -p:PublishAot=true ${GCPAUSES_FILE:+-p:GcPauses=true} -o "$work/aot" "$repo/src/AnycastDns/AnycastDns.csproj" >"$work/aot.log" 2>&1 \
        || { tail -n 30 "$work/aot.log" >&2; die "native publish failed"; }
fi
if [ -n "$baseline" ]; then
    say "building the baseline, AnycastDns as of $baseline (Release)"
    git -C "$repo" worktree add --detach "$work/baseline-src" "$baseline" >"$work/baseline.log" 2>&1 \
        || { cat "$work/baseline.log" >&2; die "no revision '$baseline'"; }
    dotnet build -c Release -nologo -v q "$work/baseline-src/src/AnycastDns/AnycastDns.csproj" >>"$work/baseline.log" 2>&1 \
        || { tail -n 30 "$work/baseline.log" >&2; die "the baseline does not build"; }
fi

[ $dnstap -eq 0 ] || start_collector

echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r)"
echo "versions: knotd $(/usr/sbin/knotd -V | awk '{ print $NF }'), nsd $(/usr/sbin/nsd -v 2>&1 | awk 'NR == 1 { print $NF }'), $(/usr/bin/dnsperf -h 2>&1 | awk '/^Version/ { print "dnsperf " $NF; exit }'), anycastdns $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- src || echo '+changes')${baseline:+, baseline $(git -C "$repo" rev-parse --short "$baseline")}"

# ---- many zones ----------------------------------------------------------------------------------------------------

# Writes N zones z0.example. .. z<N-1>.example. of ten records each into <folder>, one file per zone (<origin>zone).
write_many_zones() {
    python3 - "$1" "$2" <<'PY'
import os, sys
folder, n = sys.argv[1], int(sys.argv[2])
os.makedirs(folder, exist_ok=True)
for i in range(n):
    with open(os.path.join(folder, "z%d.example.zone" % i), "w") as f:
        f.write("$TTL 3600\n@ SOA ns1 hostmaster %d 7200 3600 1209600 3600\n@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\n"
                "ns2 A 192.0.2.2\n@ A 192.0.2.10\nwww A 10.%d.%d.11\nmail A 192.0.2.12\n@ MX 10 mail\n@ TXT \"v=spf1 -all\"\n"
                % (i + 1, (i >> 8) & 255, i & 255))
PY
}

# start_<server>_zones <folder> <zones folder> <count> <port>: every zone of the folder, as the server's own
# configuration says it (Knot and NSD: a zone list and a file-name template), in the background; prints the PID.
start_knot_zones() {
    local dir=$1 zones=$2 count=$3 port=$4 i
    mkdir -p "$dir/db"
    {
        printf 'server:\n    rundir: "%s"\n    pidfile: "%s/knot.pid"\n    listen: 127.0.0.1@%s\n    udp-workers: %s\n    tcp-workers: %s\n    background-workers: 1\n' "$dir" "$dir" "$port" "$workers" "$workers"
        printf 'control:\n    listen: "%s/knot.sock"\ndatabase:\n    storage: "%s/db"\nlog:\n  - target: stderr\n    any: notice\n' "$dir" "$dir"
        printf 'template:\n  - id: default\n    file: "%s/%%s.zone"\n    semantic-checks: off\n    zonefile-load: whole\n    zonefile-sync: -1\n    journal-content: none\nzone:\n' "$zones"
        for ((i = 0; i < count; i++)); do printf '  - domain: z%d.example.\n' "$i"; done
    } >"$dir/knot.conf"
    limited /usr/sbin/knotd -c "$dir/knot.conf" >"$dir/server.log" 2>&1 &
    echo $!
}

start_nsd_zones() {
    local dir=$1 zones=$2 count=$3 port=$4 i
    {
        printf 'server:\n    ip-address: 127.0.0.1@%s\n    do-ip6: no\n    server-count: %s\n    reuseport: no\n    username: ""\n    chroot: ""\n' "$port" "$workers"
        printf '    zonesdir: "%s"\n    database: ""\n    pidfile: "%s/nsd.pid"\n    xfrdfile: "%s/xfrd.state"\n    xfrdir: "%s"\n    zonelistfile: "%s/zone.list"\n' "$zones" "$dir" "$dir" "$dir" "$dir"
        printf '    logfile: "%s/server.log"\n    verbosity: 1\n    rrl-ratelimit: 0\n    rrl-whitelist-ratelimit: 0\nremote-control:\n    control-enable: no\n' "$dir"
        printf 'pattern:\n    name: small\n    zonefile: "%s/%%szone"\n' "$zones"
        for ((i = 0; i < count; i++)); do printf 'zone:\n    name: z%d.example.\n    include-pattern: small\n' "$i"; done
    } >"$dir/nsd.conf"
    limited /usr/sbin/nsd -d -c "$dir/nsd.conf" >>"$dir/server.log" 2>&1 &
    echo $!
}

start_dotnet_zones() {
    local dll=$1 dir=$2 zones=$3 port=$5; shift 5
    # The folder's watch only where --edit-one measures a reload by it: the rest compares loads.
    limited env "$(heap_limit_env)" $(runner "$dll") "$dll" serve --zones "$zones" --listen "127.0.0.1:$port" --pop-id bench \
        $([ "$edit_one" = 1 ] || echo --no-watch) --udp-receive-loops "$workers" "$@" >"$dir/server.log" 2>&1 &
    echo $!
}

start_anycastdns_zones() { start_dotnet_zones "$anycastdns_dll" "$@" --rrl-exempt none --rrl-rate 1000000; }

start_unprotected_zones() { start_dotnet_zones "$anycastdns_dll" "$@" --rrl-rate 0; }

start_dnstap_zones() { start_dotnet_zones "$anycastdns_dll" "$@" --rrl-exempt none --rrl-rate 1000000 --dnstap-socket "$work/dnstap.sock"; }

start_baseline_zones() { start_dotnet_zones "$baseline_dll" "$@"; }

start_aot_zones() { start_dotnet_zones "$aot_bin" "$@" --rrl-exempt none --rrl-rate 1000000; }


# ---- throughput ----------------------------------------------------------------------------------------------------

# dnsperf_run <port> <udp|tcp> <seconds> [more dnsperf options]: the issue's dnsperf command line on our query list.
dnsperf_run() {
    local port=$1 proto=$2 seconds=$3; shift 3
    /usr/bin/dnsperf -m "$proto" -s 127.0.0.1 -p "$port" -d "$work/queries.txt" -c "$clients" -T 1 -q 500 -l "$seconds" ${cookie[@]+"${cookie[@]}"} "$@"
}

# perf <server> <pid> <port> <udp|tcp> <round>: one dnsperf run, the server's CPU read from /proc around it, then a
# shorter verbose run for the latency percentile; appends a line "round proto server qps cpu_us avg_ms p99_ms lost%".
perf() {
    local server=$1 pid=$2 port=$3 proto=$4 round=$5 raw=$work/dnsperf-$1-$4-$5
    local before after
    before=$(cpu_seconds "$pid")
    dnsperf_run "$port" "$proto" "$duration" >"$raw.txt" 2>&1 || { tail -n 20 "$raw.txt" >&2; die "dnsperf against $server ($proto) failed"; }
    after=$(cpu_seconds "$pid")
    # dnsperf 2.10 (Debian 12) has no latency histogram; -v prints every query's latency, which costs dnsperf about
    # a quarter of its rate, so the percentile comes from this separate run and the rate from the run above.
    dnsperf_run "$port" "$proto" "$latency_duration" -v >"$raw-v.txt" 2>&1 || { tail -n 20 "$raw-v.txt" >&2; die "dnsperf -v against $server ($proto) failed"; }
    local p99
    p99=$(awk '/^> / { n++; b[int($NF * 1e6)]++; if (int($NF * 1e6) > max) max = int($NF * 1e6) }
        END { want = n * 0.99; for (us = 0; us <= max; us++) { seen += b[us]; if (seen >= want) { printf "%.3f\n", us / 1000; exit } } }' "$raw-v.txt")
    awk -v round="$round" -v proto="$proto" -v server="$server" -v cpu="$(awk -v a="$after" -v b="$before" 'BEGIN { print a - b }')" -v p99="$p99" '
        /Queries completed:/ { done = $3 }
        /Queries lost:/ { lost = $4; gsub(/[()%]/, "", lost) }
        /Queries per second:/ { qps = $4 }
        /Average Latency/ && avg == "" { avg = $4 }  # TCP runs add a second one: the connection latency
        END {
            if (done == 0) { print "no query completed" > "/dev/stderr"; exit 1 }
            printf "%s %s %s %.0f %.2f %.3f %s %s\n", round, proto, server, qps, cpu * 1e6 / done, avg * 1000, p99, lost
        }' "$raw.txt" >>"$work/results.txt"
}

warm_up() {
    dnsperf_run "$1" "$2" "$warmup" >/dev/null 2>&1 || true
}

# awk functions for the tables: a ratio, and the median of the values v[1..k] (mawk has no sort).
awk_stats='
    function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
    function median(v, k,    i, j, x) {
        for (i = 2; i <= k; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
        return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
    }
    # Adds value x to series name (stat[name, 1..count[name]]).
    function add(name, x) { stat[name, ++count[name]] = x }
    # The median of series name, or "-" when it is empty.
    function med(name,    i, v) { if (!count[name]) return "-"; for (i = 1; i <= count[name]; i++) v[i] = stat[name, i]; return median(v, count[name]) }
    function fmt(x) { return x == "-" ? x : sprintf("%.2f", x) }
'

reset_hwm() {
    local p ok=0
    for p in $(process_tree "$1"); do
        { echo 5 >"/proc/$p/clear_refs"; } 2>/dev/null || ok=1
    done
    return $ok
}

# Around a change to a running server (a transfer applied, a reload): VmHWM reset, then bench/pause.py asking
# www.bench.test. A every ms from 1 s before the change; stop_pauser ends it and sets queries, answered, lost, longest,
# over (waits over 50 ms) and p99.
start_pauser() {
    local pid=$1 port=$2 dir=$3 name=${4:-www.bench.test.}
    reset_hwm "$pid" || hwm_note=" (the kernel did not let VmHWM be reset: it counts from the start)"
    rm -f "$dir/pause.stop"
    /usr/bin/python3 "$repo/bench/pause.py" "$port" "$name" 600 "$dir/pause.stop" >"$dir/pause.txt" &
    pauser=$!
    sleep 1
}

stop_pauser() {
    local server=$1 dir=$2
    touch "$dir/pause.stop"
    wait "$pauser" || die "pause.py against $server failed"
    read -r _ queries _ answered _ lost _ longest _ over _ p99 <"$dir/pause.txt"
}

# add_record <file> [owner]: one record more (<owner, edit1> A 192.0.2.77) and the serial + 1, written to a new file
# renamed over the old (an atomic deploy).
add_record() {
    awk -v owner="${2:-edit1}" '!done { for (i = 1; i < NF - 2; i++) if ($i == "SOA") { $(i + 3) = $(i + 3) + 1; done = 1; break } }
        { print } END { print owner " IN A 192.0.2.77" }' "$1" >"$1.new"
    mv "$1.new" "$1"
}

# answered_after <server> <pid> <port> <new name> <dir>: once a change was made at $start (date +%s%N), sets edit_ms to
# the ms until <new name> A answered 192.0.2.77 (-1: it never did, within 300 s).
answered_after() {
    local server=$1 pid=$2 port=$3 name=$4 dir=$5 end
    if answers_within "$pid" "$port" "$name" 192.0.2.77 300 "$dir"; then
        end=$(date +%s%N)
        edit_ms=$(((end - start) / 1000000))
    else
        edit_ms=-1
        say "$server did not answer $name: $failure_reason"
    fi
}

# measure_edit <server> <pid> <port> <new name> <dir>: with a pauser running, answered_after, and, 3 s after the answer
# (AnycastDns's collection one second after the swap falls inside), the pauser's figures, hwm, then 2 s later rss and pss.
measure_edit() {
    local server=$1 pid=$2 dir=$5
    answered_after "$@"
    sleep 3
    stop_pauser "$server" "$dir"
    read -r _ hwm _ <<<"$(memory_mib "$pid")"
    sleep 2
    read -r rss _ pss <<<"$(memory_mib "$pid")"
}

# --edit-one: one zone of the running server's N edited in its file and reloaded (see the option); the original is
# left in <dir>/edited.orig for the caller to put back once the server has stopped.
edit_one_zone() {
    local server=$1 pid=$2 port=$3 dir=$4 zones=$5 count=$6 round=$7
    local zone=z$((count / 2)).example. file steady
    file=$zones/${zone}zone
    read -r steady _ _ <<<"$(memory_mib "$pid")"
    start_pauser "$pid" "$port" "$dir" www.z5.example.
    cp -p "$file" "$dir/edited.orig"
    add_record "$file"
    start=$(date +%s%N)
    case $server in
        knot) /usr/sbin/knotc -s "$dir/knot.sock" zone-reload "$zone" >"$dir/knotc.log" 2>&1 || { cat "$dir/knotc.log" >&2; die "knotc zone-reload failed"; } ;;
        nsd) kill -HUP "$pid" ;;
        *) ;; # the folder's watch
    esac
    measure_edit "$server" "$pid" "$port" "edit1.$zone" "$dir"
    echo "$count $round $server $edit_ms $longest $over $lost $queries $p99 $steady $hwm $rss" >>"$work/edit-one.txt"
    say "round $round, $count zones: $server answered the edit $edit_ms ms after it; longest wait $longest ms; RSS $steady -> $rss MiB"
}

if [ -n "$many_zones" ]; then
    IFS=, read -r -a zone_counts <<<"$many_zones"
    : >"$work/zones.txt"
    : >"$work/edit-one.txt"
    hwm_note=
    for count in "${zone_counts[@]}"; do
        say "generating $count small zones"
        write_many_zones "$work/zones-$count" "$count"
        last=$((count - 1))
        for round in $(seq "$rounds"); do
            for server in "${server_list[@]}"; do
                dir=$work/zones-$count-$server
                rm -rf "$dir"; mkdir -p "$dir"
                port=$(free_port)
                enter_cgroup "zones-$count-$server-$round"
                start=$(date +%s%N)
                pid=$("start_${server}_zones" "$dir" "$work/zones-$count" "$count" "$port")
                started+=("$pid")
                if [ -n "$memory_limit" ] && ! answers_within "$pid" "$port" "www.z$last.example." "10.$(((last >> 8) & 255)).$((last & 255)).11" 900 "$dir"; then
                    say "round $round, $count zones: $server did not load within $memory_limit MiB: $failure_reason"
                    stop_server "$pid"
                    forget "$pid"
                    continue
                fi
                wait_for_answer "$server" "$pid" "$port" "www.z$last.example." "10.$(((last >> 8) & 255)).$((last & 255)).11" 900 "$dir"
                end=$(date +%s%N)
                # The first zone too: a server that answers the last zone has not necessarily loaded the others.
                python3 "$repo/bench/probe.py" "$port" www.z0.example. 10.0.0.11 5 || die "$server does not answer the first zone"
                sleep 5
                five=$(memory_mib "$pid")
                read -r settled settled_at <<<"$(settled_rss "$pid" "$start")"
                echo "$count $round $server $(((end - start) / 1000000)) $five $settled $settled_at" >>"$work/zones.txt"
                say "round $round, $count zones: $server answered the last zone after $(((end - start) / 1000000)) ms; $settled MiB resident once settled, $settled_at s after its start"
                [ "$edit_one" = 0 ] || edit_one_zone "$server" "$pid" "$port" "$dir" "$work/zones-$count" "$count" "$round"
                stop_server "$pid"
                forget "$pid"
                # The edited file back as generated, for the next server (none runs now, so no watch sees it).
                [ "$edit_one" = 0 ] || mv "$dir/edited.orig" "$work/zones-$count/z$((count / 2)).example.zone"
            done
        done
    done
    if [ "$edit_one" = 1 ]; then
        echo
        echo "One zone edited among N: z<N/2>.example.zone gets one record more and its serial + 1 (a new file renamed over"
        echo "the old); AnycastDns reloads by its watch of the folder, Knot by knotc zone-reload of that zone, NSD by SIGHUP."
        echo "edit s: from the rename (or the command) to the new record's first right answer; bench/pause.py asked"
        echo "www.z5.example. A every ms from 1 s before to 3 s after that answer: the longest wait, waits over 50 ms, queries"
        echo "lost, p99; steady: VmRSS before; HWM: the peak over the edit$hwm_note; RSS 5 s after the peak was read."
        awk "$awk_stats"'
            { row[++n] = $0; key = $1 " " $3; if (!((key) in seen)) { seen[key] = 1; order[++keys] = key } }
            END {
                printf "%-7s %-6s %-11s %8s %11s %7s %6s %7s %10s %8s %8s\n", "zones", "round", "server", "edit s", "longest ms", ">50ms", "lost", "p99 ms", "steady MiB", "HWM MiB", "RSS MiB"
                for (i = 1; i <= n; i++) {
                    split(row[i], f, " "); k = f[1] " " f[3]
                    printf "%-7s %-6s %-11s %8s %11.1f %7d %6d %7.2f %10d %8d %8d\n", f[1], f[2], f[3], f[4] < 0 ? "none" : sprintf("%.3f", f[4] / 1000), f[5], f[6], f[7], f[9], f[10], f[11], f[12]
                    if (f[4] >= 0) add(k "u", f[4] / 1000)
                    add(k "l", f[5]); add(k "o", f[6]); add(k "lost", f[7]); add(k "p", f[9]); add(k "s", f[10]); add(k "hwm", f[11]); add(k "rss", f[12])
                    if (f[2] + 0 > rounds) rounds = f[2] + 0
                }
                if (rounds < 2) exit
                for (i = 1; i <= keys; i++) {
                    k = order[i]; split(k, f, " ")
                    printf "%-7s %-6s %-11s %8s %11.1f %7d %6d %7.2f %10d %8d %8d\n", f[1], "median", f[2], fmt(med(k "u")), med(k "l"), med(k "o"), med(k "lost"), med(k "p"), med(k "s"), med(k "hwm"), med(k "rss")
                }
            }' "$work/edit-one.txt"
    fi
    echo
    echo "Many zones: N zones of ten records, one file each; time from process start to the first right answer for the"
    echo "last zone (bench/probe.py, every 10 ms); memory 5 s later: VmRSS and VmHWM of the largest process, PSS summed;"
    echo "settled: VmRSS once 10 samples a second apart stay within 2 % (at most 60 s more), and when, from the start"
    echo "(AnycastDns computes the zones' digests and runs its start-up self-check after the first answer, then compacts)."
    awk "$awk_stats"'
        { key = $1 " " $2 " " $3; row[++n] = $0; t[key] = $4; rss[key] = $8; if (!(($3) in seen)) { seen[$3] = 1; order[++servers] = $3 } }
        END {
            printf "%-7s %-6s %-11s %8s %8s %8s %8s %8s %8s %10s %9s %10s %9s\n", "zones", "round", "server", "time s", "RSS MiB", "HWM MiB", "PSS MiB", "settled", "at s", "time/Knot", "RSS/Knot", "time/NSD", "RSS/NSD"
            for (i = 1; i <= n; i++) {
                split(row[i], f, " "); c = f[1]; r = f[2]; x = f[3]; k = c " " r
                printf "%-7s %-6s %-11s %8.2f %8d %8d %8d %8d %8d %10s %9s %10s %9s\n", c, r, x, f[4] / 1000, f[5], f[6], f[7], f[8], f[9],
                    ratio(f[4], t[k " knot"]), ratio(f[8], rss[k " knot"]), ratio(f[4], t[k " nsd"]), ratio(f[8], rss[k " nsd"])
                add(c x "t", f[4] / 1000); add(c x "rss", f[5]); add(c x "hwm", f[6]); add(c x "pss", f[7]); add(c x "set", f[8]); add(c x "at", f[9])
                if (t[k " knot"] > 0) { add(c x "tk", f[4] / t[k " knot"]); add(c x "rk", f[8] / rss[k " knot"]) }
                if (t[k " nsd"] > 0) { add(c x "tn", f[4] / t[k " nsd"]); add(c x "rn", f[8] / rss[k " nsd"]) }
                if (r + 0 > rounds) rounds = r + 0
                if (!((c) in counted)) { counted[c] = 1; counts[++ncounts] = c }
            }
            if (rounds < 2) exit
            for (j = 1; j <= ncounts; j++) for (i = 1; i <= servers; i++) {
                c = counts[j]; x = order[i]
                printf "%-7s %-6s %-11s %8.2f %8d %8d %8d %8d %8d %10s %9s %10s %9s\n", c, "median", x, med(c x "t"), med(c x "rss"), med(c x "hwm"), med(c x "pss"), med(c x "set"), med(c x "at"),
                    fmt(med(c x "tk")), fmt(med(c x "rk")), fmt(med(c x "tn")), fmt(med(c x "rn"))
            }
        }' "$work/zones.txt"
    exit 0
fi

# Prints the table of one protocol: every round, each server's row with its ratios to Knot's and NSD's of that round;
# with more than one round, then each server's medians over the rounds (of its figures, and of its per-round ratios).
table() {
    local proto=$1
    awk -v proto="$proto" "$awk_stats"'
        $2 != proto { next }
        { key = $1 " " $3; qps[key] = $4; cpu[key] = $5; row[++n] = $0; if (!(($3) in seen)) { seen[$3] = 1; order[++servers] = $3 } }
        END {
            printf "%-6s %-11s %9s %8s %8s %8s %6s %9s %8s %9s %8s\n", "round", "server", "QPS", "CPU us/q", "avg ms", "p99 ms", "lost%", "QPS/Knot", "QPS/NSD", "CPU/Knot", "CPU/NSD"
            for (i = 1; i <= n; i++) {
                split(row[i], f, " "); r = f[1]; s = f[3]
                printf "%-6s %-11s %9d %8.2f %8.3f %8.3f %6s %9s %8s %9s %8s\n", r, s, f[4], f[5], f[6], f[7], f[8],
                    ratio(f[4], qps[r " knot"]), ratio(f[4], qps[r " nsd"]), ratio(f[5], cpu[r " knot"]), ratio(f[5], cpu[r " nsd"])
                add(s "qps", f[4]); add(s "cpu", f[5]); add(s "avg", f[6]); add(s "p99", f[7]); add(s "lost", f[8])
                if (qps[r " knot"] > 0) { add(s "qk", f[4] / qps[r " knot"]); add(s "ck", f[5] / cpu[r " knot"]) }
                if (qps[r " nsd"] > 0) { add(s "qn", f[4] / qps[r " nsd"]); add(s "cn", f[5] / cpu[r " nsd"]) }
                if (r + 0 > rounds) rounds = r + 0
            }
            if (rounds < 2) exit
            for (i = 1; i <= servers; i++) {
                s = order[i]
                printf "%-6s %-11s %9d %8.2f %8.3f %8.3f %6.2f %9s %8s %9s %8s\n", "median", s, med(s "qps"), med(s "cpu"), med(s "avg"), med(s "p99"), med(s "lost"),
                    fmt(med(s "qk")), fmt(med(s "qn")), fmt(med(s "ck")), fmt(med(s "cn"))
            }
        }' "$work/results.txt"
}

if [ $only_load -eq 0 ]; then
    python3 "$repo/bench/gen.py" --names "$names" --zone "$work/bench.test.zone" --queries "$work/queries.txt" --mix "$mix"
    declare -A pid_of port_of
    for server in "${server_list[@]}"; do
        mkdir -p "$work/$server"
        port_of[$server]=$(free_port)
        pid_of[$server]=$("start_$server" "$work/$server" "$work/bench.test.zone" "${port_of[$server]}")
        started+=("${pid_of[$server]}")
    done
    for server in "${server_list[@]}"; do
        wait_for_answer "$server" "${pid_of[$server]}" "${port_of[$server]}" last.bench.test. 192.0.2.254 60 "$work/$server"
        verify_server "$server" "${port_of[$server]}"
        say "$server (pid ${pid_of[$server]}, 127.0.0.1:${port_of[$server]}) answers correctly"
    done
    : >"$work/results.txt"
    # The order rotates each round: the server measured first in a round ran up to 40 % cheaper per UDP query than
    # the same build measured second (an A/A run, --baseline HEAD, at 262e18f), so a fixed order biases every ratio.
    for round in $(seq "$rounds"); do
        for proto in udp tcp; do
            for ((at = 0; at < ${#server_list[@]}; at++)); do
                server=${server_list[$(((at + round - 1) % ${#server_list[@]}))]}
                say "round $round: $proto against $server"
                warm_up "${port_of[$server]}" "$proto"
                perf "$server" "${pid_of[$server]}" "${port_of[$server]}" "$proto" "$round"
            done
        done
    done
    for server in "${server_list[@]}"; do
        stop_server "${pid_of[$server]}"
        forget "${pid_of[$server]}"
    done
    echo
    echo "query mix: $mix${cookie[*]:+; every query with a client cookie (dnsperf ${cookie[*]})}"
    echo "dnsperf -c $clients -T 1 -q 500 -l $duration over loopback; zone of $names names ($(grep -c '^[^$]' "$work/bench.test.zone") records), $(wc -l <"$work/queries.txt") queries in the list;"
    echo "$workers worker(s) each: Knot udp-workers/tcp-workers, NSD server-count, AnycastDns --udp-receive-loops."
    echo "CPU = utime + stime of the server and its children (/proc/PID/stat) over the run / queries completed."
    echo "p99 from a separate ${latency_duration}s dnsperf -v run (1 us buckets); QPS, CPU and avg from the main run."
    for proto in udp tcp; do
        echo
        echo "${proto^^}"
        table "$proto"
    done
fi

# ---- zone load -----------------------------------------------------------------------------------------------------

if [ "$load_names" -gt 0 ]; then
    say "generating the $load_names-name zone"
    python3 "$repo/bench/gen.py" --names "$load_names" --zone "$work/load.zone"
    records=$(grep -c '^[^$]' "$work/load.zone")
    : >"$work/load.txt"
    for round in $(seq "$rounds"); do
        for server in "${server_list[@]}"; do
            # Each alone, so that no other server's load competes for the cores.
            dir=$work/load-$server
            mkdir -p "$dir"
            port=$(free_port)
            enter_cgroup "load-$server-$round"
            start=$(date +%s%N)
            pid=$("start_$server" "$dir" "$work/load.zone" "$port")
            started+=("$pid")
            if [ -n "$memory_limit" ] && ! answers_within "$pid" "$port" last.bench.test. 192.0.2.254 600 "$dir"; then
                echo "$round $server $failure_reason" >>"$work/load-failed.txt"
                say "round $round: $server did not load within $memory_limit MiB: $failure_reason"
                stop_server "$pid"
                forget "$pid"
                continue
            fi
            wait_for_answer "$server" "$pid" "$port" last.bench.test. 192.0.2.254 600 "$dir"
            end=$(date +%s%N)
            verify_server "$server" "$port"
            # A moment for what loading left behind to be freed (Knot's parser; AnycastDns collects its load garbage
            # one second after the swap), then the memory.
            sleep 5
            echo "$round $server $(((end - start) / 1000000)) $(memory_mib "$pid")" >>"$work/load.txt"
            say "round $round: $server loaded in $(((end - start) / 1000000)) ms"
            stop_server "$pid"
            forget "$pid"
        done
    done
    echo
    echo "Zone load: $load_names names, $records records, $(($(stat -c %s "$work/load.zone") / 1048576)) MiB of zone file${memory_limit:+, each server in a $memory_limit MiB memory limit ($cgroup_kind cgroup)};"
    echo "time from process start to the first right answer for the zone's last name (bench/probe.py: every 10 ms);"
    echo "memory 5 s later: VmRSS and VmHWM of the largest process, PSS summed over the server's processes."
    awk "$awk_stats"'
        { key = $1 " " $2; row[++n] = $0; t[key] = $3; rss[key] = $4; if (!(($2) in seen)) { seen[$2] = 1; order[++servers] = $2 } }
        END {
            printf "%-6s %-11s %8s %8s %8s %8s %10s %9s %10s %9s\n", "round", "server", "load s", "RSS MiB", "HWM MiB", "PSS MiB", "time/Knot", "RSS/Knot", "time/NSD", "RSS/NSD"
            for (i = 1; i <= n; i++) {
                split(row[i], f, " "); r = f[1]; x = f[2]
                printf "%-6s %-11s %8.2f %8d %8d %8d %10s %9s %10s %9s\n", r, x, f[3] / 1000, f[4], f[5], f[6],
                    ratio(f[3], t[r " knot"]), ratio(f[4], rss[r " knot"]), ratio(f[3], t[r " nsd"]), ratio(f[4], rss[r " nsd"])
                add(x "t", f[3] / 1000); add(x "rss", f[4]); add(x "hwm", f[5]); add(x "pss", f[6])
                if (t[r " knot"] > 0) { add(x "tk", f[3] / t[r " knot"]); add(x "rk", f[4] / rss[r " knot"]) }
                if (t[r " nsd"] > 0) { add(x "tn", f[3] / t[r " nsd"]); add(x "rn", f[4] / rss[r " nsd"]) }
                if (r + 0 > rounds) rounds = r + 0
            }
            if (rounds < 2) exit
            for (i = 1; i <= servers; i++) {
                x = order[i]
                printf "%-6s %-11s %8.2f %8d %8d %8d %10s %9s %10s %9s\n", "median", x, med(x "t"), med(x "rss"), med(x "hwm"), med(x "pss"),
                    fmt(med(x "tk")), fmt(med(x "rk")), fmt(med(x "tn")), fmt(med(x "rn"))
            }
        }' "$work/load.txt"
    [ ! -s "$work/load-failed.txt" ] || { echo "did not load within the limit:"; sed 's/^/  round /' "$work/load-failed.txt"; }
fi

# ---- zone transfer -------------------------------------------------------------------------------------------------

# Samples the largest VmRSS (MiB) in the process tree of <pid> every 50 ms into <file> (its maximum so far), until
# <file>.stop exists or <seconds> pass.
sample_rss() {
    local pid=$1 file=$2 seconds=$3 max=0 rss deadline=$((SECONDS + $3))
    while [ ! -e "$file.stop" ] && [ $SECONDS -lt $deadline ]; do
        rss=$(memory_mib "$pid" | cut -d' ' -f1)
        [ "$rss" -gt "$max" ] && max=$rss && echo "$max" >"$file"
        sleep 0.05
    done
}

# AXFRs to bench/axfr.py back to back until <file>.stop exists or <seconds> pass; counts them in <file>.
axfr_loop() {
    local port=$1 file=$2 seconds=$3 n=0 deadline=$((SECONDS + $3))
    while [ ! -e "$file.stop" ] && [ $SECONDS -lt $deadline ]; do
        /usr/bin/python3 "$repo/bench/axfr.py" "$port" bench.test. 120 >/dev/null || { echo "axfr failed" >"$file.error"; break; }
        n=$((n + 1)); echo "$n" >"$file"
    done
}

if [ "$transfer_names" -gt 0 ]; then
    say "generating the $transfer_names-name zone for the transfers"
    python3 "$repo/bench/gen.py" --names "$transfer_names" --zone "$work/xfr.zone" --queries "$work/xfr-queries.txt" --mix "$mix"
    records=$(grep -c '^[^$]' "$work/xfr.zone")
    : >"$work/xfr.txt"
    export XFR=1
    for round in $(seq "$rounds"); do
        for server in "${server_list[@]}"; do
            dir=$work/xfr-$server
            rm -rf "$dir"; mkdir -p "$dir"
            port=$(free_port)
            pid=$("start_$server" "$dir" "$work/xfr.zone" "$port")
            started+=("$pid")
            wait_for_answer "$server" "$pid" "$port" last.bench.test. 192.0.2.254 600 "$dir"
            sleep 5
            idle=$(memory_mib "$pid" | cut -d' ' -f1)
            # One transfer alone: its time, and the memory at its peak. One before it, untimed, as dnsperf warms up (the
            # .NET server's code is compiled when first run, then again optimised).
            /usr/bin/python3 "$repo/bench/axfr.py" "$port" bench.test. 300 >/dev/null || die "AXFR from $server failed"
            echo "$idle" >"$dir/peak"
            sample_rss "$pid" "$dir/peak" 300 &
            sampler=$!
            out=$(/usr/bin/python3 "$repo/bench/axfr.py" "$port" bench.test. 300) || die "AXFR from $server failed"
            read -r messages octets seconds <<<"$out"
            # UDP answering idle, then while AXFRs run one after another for the whole dnsperf run.
            dnsperf_run "$port" udp "$duration" -d "$work/xfr-queries.txt" >"$dir/idle.txt" 2>&1 || die "dnsperf against $server failed"
            axfr_loop "$port" "$dir/axfrs" $((duration + 30)) &
            looper=$!
            sleep 0.5
            dnsperf_run "$port" udp "$duration" -d "$work/xfr-queries.txt" >"$dir/busy.txt" 2>&1 || die "dnsperf against $server failed"
            touch "$dir/axfrs.stop" "$dir/peak.stop"
            wait "$looper" "$sampler" 2>/dev/null || true
            [ ! -e "$dir/axfrs.error" ] || die "an AXFR from $server failed during the dnsperf run"
            qps_idle=$(awk '/Queries per second:/ { printf "%.0f", $4 }' "$dir/idle.txt")
            qps_busy=$(awk '/Queries per second:/ { printf "%.0f", $4 }' "$dir/busy.txt")
            echo "$round $server $seconds $messages $octets $idle $(cat "$dir/peak") $qps_idle $qps_busy $(cat "$dir/axfrs" 2>/dev/null || echo 0)" >>"$work/xfr.txt"
            say "round $round: $server sent the zone in $seconds s ($messages messages); UDP $qps_idle QPS idle, $qps_busy during transfers"
            stop_server "$pid"
            forget "$pid"
        done
    done
    unset XFR
    echo
    echo "Zone transfer: $transfer_names names, $records records, $(($(stat -c %s "$work/xfr.zone") / 1048576)) MiB of zone file;"
    echo "AXFR time: one transfer (after an untimed one) over TCP on loopback to bench/axfr.py (reads without decoding);"
    echo "RSS: the server's largest VmRSS idle (5 s after the load) and at its peak (sampled every 50 ms) during that"
    echo "transfer and the AXFRs after it; QPS: dnsperf UDP ($duration s, $clients clients) idle, then while AXFRs run back to back."
    awk "$awk_stats"'
        { key = $1 " " $2; row[++n] = $0; t[key] = $3; if (!(($2) in seen)) { seen[$2] = 1; order[++servers] = $2 } }
        END {
            printf "%-6s %-11s %7s %8s %9s %8s %8s %10s %9s %9s %10s\n", "round", "server", "AXFR s", "messages", "idle MiB", "peak MiB", "peak/idle", "QPS idle", "QPS busy", "busy/idle", "time/Knot"
            for (i = 1; i <= n; i++) {
                split(row[i], f, " "); r = f[1]; x = f[2]
                printf "%-6s %-11s %7.2f %8d %9d %8d %8.3f %10d %9d %9.2f %10s\n", r, x, f[3], f[4], f[6], f[7], f[7] / f[6], f[8], f[9], f[9] / f[8], ratio(f[3], t[r " knot"])
                add(x "t", f[3]); add(x "pi", f[7] / f[6]); add(x "bi", f[9] / f[8]); add(x "idle", f[6]); add(x "peak", f[7]); add(x "qi", f[8]); add(x "qb", f[9])
                if (t[r " knot"] > 0) add(x "tk", f[3] / t[r " knot"])
                if (r + 0 > rounds) rounds = r + 0
            }
            if (rounds < 2) exit
            for (i = 1; i <= servers; i++) {
                x = order[i]
                printf "%-6s %-11s %7.2f %8s %9d %8d %8.3f %10d %9d %9.2f %10s\n", "median", x, med(x "t"), "", med(x "idle"), med(x "peak"), med(x "pi"), med(x "qi"), med(x "qb"), fmt(med(x "bi")), fmt(med(x "tk"))
            }
        }' "$work/xfr.txt"
fi

# ---- zone transfer in ----------------------------------------------------------------------------------------------

# start_knot_primary <folder> <zone file> <port> <notify port>...: knotd serving the zone as the hidden primary:
# transfers allowed to 127.0.0.1, the journal keeping changes (so that it answers IXFR), and a NOTIFY to each port
# given on every new serial. Logs at info level: its "IXFR, outgoing" and "AXFR, outgoing" lines say how each
# secondary took the update.
start_knot_primary() {
    local dir=$1 zone=$2 port=$3 p ids=; shift 3
    mkdir -p "$dir/db"
    {
        printf 'server:\n    rundir: "%s"\n    pidfile: "%s/knot.pid"\n    listen: 127.0.0.1@%s\n    udp-workers: %s\n    tcp-workers: %s\n    background-workers: 1\n' "$dir" "$dir" "$port" "$workers" "$workers"
        printf 'control:\n    listen: "%s/knot.sock"\ndatabase:\n    storage: "%s/db"\nlog:\n  - target: stderr\n    any: info\n' "$dir" "$dir"
        printf 'remote:\n'
        for p in "$@"; do
            printf '  - id: s%s\n    address: 127.0.0.1@%s\n' "$p" "$p"
            ids+=${ids:+, }s$p
        done
        printf 'acl:\n  - id: xfr\n    address: 127.0.0.1\n    action: transfer\n'
        printf 'template:\n  - id: default\n    semantic-checks: off\n    zonefile-load: whole\n    zonefile-sync: -1\n    journal-content: changes\n    notify: [%s]\n    acl: xfr\n' "$ids"
        printf 'zone:\n  - domain: bench.test.\n    file: "%s"\n' "$zone"
    } >"$dir/knot.conf"
    /usr/sbin/knotd -c "$dir/knot.conf" >"$dir/server.log" 2>&1 &
    echo $!
}

# start_<server>_secondary <folder> <primary port> <port>: the server with bench.test. as a secondary zone of the
# primary on 127.0.0.1, nothing kept from an earlier run (an empty state), NOTIFY taken from 127.0.0.1; prints its PID.
start_anycastdns_secondary() {
    local dir=$1 primary=$2 port=$3
    rm -rf "$dir/state" "$dir/zones"
    mkdir -p "$dir/zones"
    limited env "$(heap_limit_env)" dotnet "$anycastdns_dll" serve --zones "$dir/zones" --listen "127.0.0.1:$port" --pop-id bench --no-watch \
        --udp-receive-loops "$workers" --tcp-max-queries 0 --rrl-exempt none --rrl-rate 1000000 \
        --secondary-zone "bench.test. 127.0.0.1:$primary" --secondary-state "$dir/state" >"$dir/server.log" 2>&1 &
    echo $!
}

start_knot_secondary() {
    local dir=$1 primary=$2 port=$3
    rm -rf "$dir/db"
    mkdir -p "$dir/db"
    cat >"$dir/knot.conf" <<EOF
server:
    rundir: "$dir"
    pidfile: "$dir/knot.pid"
    listen: 127.0.0.1@$port
    udp-workers: $workers
    tcp-workers: $workers
    background-workers: 1
control:
    listen: "$dir/knot.sock"
database:
    storage: "$dir/db"
log:
  - target: stderr
    any: info
remote:
  - id: primary
    address: 127.0.0.1@$primary
acl:
  - id: notify
    address: 127.0.0.1
    action: notify
template:
  - id: default
    semantic-checks: off
    zonefile-sync: -1
    journal-content: changes
zone:
  - domain: bench.test.
    file: "$dir/bench.test.zone"
    master: primary
    acl: notify
EOF
    limited /usr/sbin/knotd -c "$dir/knot.conf" >"$dir/server.log" 2>&1 &
    echo $!
}

start_nsd_secondary() {
    local dir=$1 primary=$2 port=$3
    rm -f "$dir/bench.test.zone" "$dir/xfrd.state" "$dir/zone.list"
    cat >"$dir/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$port
    do-ip6: no
    server-count: $workers
    reuseport: no
    username: ""
    chroot: ""
    zonesdir: "$dir"
    database: ""
    pidfile: "$dir/nsd.pid"
    xfrdfile: "$dir/xfrd.state"
    xfrdir: "$dir"
    zonelistfile: "$dir/zone.list"
    logfile: "$dir/server.log"
    verbosity: 1
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: bench.test.
    zonefile: "$dir/bench.test.zone"
    request-xfr: 127.0.0.1@$primary NOKEY
    allow-notify: 127.0.0.1 NOKEY
EOF
    limited /usr/sbin/nsd -d -c "$dir/nsd.conf" >>"$dir/server.log" 2>&1 &
    echo $!
}

# Resets VmHWM of every process in the tree of <pid> to its VmRSS now (/proc/PID/clear_refs, 5), so that VmHWM read
# later is the peak of what came after; returns 1 when the kernel did not allow it.
if [ "$transfer_in_names" -gt 0 ]; then
    say "generating the $transfer_in_names-name zone for the transfers in"
    python3 "$repo/bench/gen.py" --names "$transfer_in_names" --zone "$work/xin.zone"
    records=$(grep -c '^[^$]' "$work/xin.zone")
    xin_servers=()
    for server in "${server_list[@]}"; do
        case $server in anycastdns | knot | nsd) xin_servers+=("$server") ;; esac
    done
    [ ${#xin_servers[@]} -gt 0 ] || die "--transfer-in-names measures anycastdns, knot and nsd: none of them is in --servers"
    : >"$work/xin-load.txt"
    : >"$work/xin-update.txt"
    hwm_note=
    edits=0
    for round in $(seq "$rounds"); do
        # One primary per round, told the secondaries' ports before they run; they run one at a time, so each NOTIFY
        # to a secondary not running is lost (Knot logs it and gives up) and competes for nothing.
        declare -A xin_port=()
        for server in "${xin_servers[@]}"; do xin_port[$server]=$(free_port); done
        pdir=$work/xin-primary-$round
        mkdir -p "$pdir"
        primary_port=$(free_port)
        primary=$(start_knot_primary "$pdir" "$work/xin.zone" "$primary_port" "${xin_port[@]}")
        started+=("$primary")
        wait_for_answer "the Knot primary" "$primary" "$primary_port" last.bench.test. 192.0.2.254 600 "$pdir"
        knotc=(/usr/sbin/knotc -s "$pdir/knot.sock")
        for server in "${xin_servers[@]}"; do
            # From the zone file, as the zone-load comparison measures it, on the same machine moments apart.
            dir=$work/xin-$server-file
            rm -rf "$dir"
            mkdir -p "$dir"
            port=$(free_port)
            start=$(date +%s%N)
            pid=$("start_$server" "$dir" "$work/xin.zone" "$port")
            started+=("$pid")
            wait_for_answer "$server" "$pid" "$port" last.bench.test. 192.0.2.254 600 "$dir"
            end=$(date +%s%N)
            sleep 5
            echo "$round $server file $(((end - start) / 1000000)) $(memory_mib "$pid")" >>"$work/xin-load.txt"
            say "round $round: $server loaded the file in $(((end - start) / 1000000)) ms"
            stop_server "$pid"
            forget "$pid"

            # As a secondary of the Knot primary, from nothing: start, SOA query, AXFR, checks, first answer.
            dir=$work/xin-$server
            rm -rf "$dir"
            mkdir -p "$dir"
            port=${xin_port[$server]}
            start=$(date +%s%N)
            pid=$("start_${server}_secondary" "$dir" "$primary_port" "$port")
            started+=("$pid")
            wait_for_answer "$server (secondary)" "$pid" "$port" last.bench.test. 192.0.2.254 600 "$dir"
            end=$(date +%s%N)
            verify_server "$server (secondary)" "$port"
            sleep 5
            echo "$round $server AXFR $(((end - start) / 1000000)) $(memory_mib "$pid")" >>"$work/xin-load.txt"
            say "round $round: $server answered as a secondary $(((end - start) / 1000000)) ms after its start"

            # One record added on the primary while pause.py asks for www every millisecond: Knot's NOTIFY, our SOA
            # query, the IXFR, its apply and the swap, until the new name answers; then 2 s more, so that a collection
            # after the swap is measured too.
            edits=$((edits + 1))
            start_pauser "$pid" "$port" "$dir"
            primary_lines=$(wc -l <"$pdir/server.log")
            start=$(date +%s%N)
            { "${knotc[@]}" zone-begin bench.test. && "${knotc[@]}" zone-set bench.test. "edit$edits" 3600 A 192.0.2.77 \
                && "${knotc[@]}" zone-commit bench.test.; } >"$dir/knotc.log" 2>&1 || { cat "$dir/knotc.log" >&2; die "knotc could not change the zone on the primary"; }
            answered_after "$server" "$pid" "$port" "edit$edits.bench.test." "$dir"
            update_ms=$edit_ms
            sleep 2
            stop_pauser "$server" "$dir"
            # How the secondary took the update, from the primary's log lines since the edit.
            how=$(tail -n +"$((primary_lines + 1))" "$pdir/server.log" | awk '
                /IXFR, outgoing.*finished/ { i = 1 } /AXFR, outgoing.*finished/ { a = 1 }
                END { print a ? (i ? "IXFR+AXFR" : "AXFR") : (i ? "IXFR" : "?") }')
            echo "$round $server $update_ms $longest $over $lost $queries $p99 $(memory_mib "$pid") $how" >>"$work/xin-update.txt"
            say "round $round: $server answered the change after $update_ms ms by $how; longest wait $longest ms"
            stop_server "$pid"
            forget "$pid"
        done
        stop_server "$primary"
        forget "$primary"
    done
    echo
    echo "Zone transfer in: $transfer_in_names names, $records records, $(($(stat -c %s "$work/xin.zone") / 1048576)) MiB of zone file; Knot $(/usr/sbin/knotd -V | awk '{ print $NF }') the primary."
    echo "first s: from process start to the first right answer for the zone's last name (bench/probe.py, every 10 ms),"
    echo "loaded from the file, or as a secondary from an empty state (SOA query, AXFR from Knot, checks, swap);"
    echo "memory 5 s later: VmRSS and VmHWM of the largest process, PSS summed over the server's processes."
    awk "$awk_stats"'
        { key = $1 " " $2; if ($3 == "file") { t[key] = $4; rss[key] = $5; hwm[key] = $6 } row[++n] = $0
          if (!(($2) in seen)) { seen[$2] = 1; order[++servers] = $2 } }
        END {
            printf "%-6s %-11s %-5s %8s %8s %8s %8s %10s %9s %9s\n", "round", "server", "from", "first s", "RSS MiB", "HWM MiB", "PSS MiB", "time/file", "RSS/file", "HWM/file"
            for (i = 1; i <= n; i++) {
                split(row[i], f, " "); r = f[1]; x = f[2]; k = r " " x
                printf "%-6s %-11s %-5s %8.2f %8d %8d %8d %10s %9s %9s\n", r, x, f[3], f[4] / 1000, f[5], f[6], f[7],
                    ratio(f[4], t[k]), ratio(f[5], rss[k]), ratio(f[6], hwm[k])
                m = x " " f[3]; add(m "t", f[4] / 1000); add(m "rss", f[5]); add(m "hwm", f[6]); add(m "pss", f[7])
                if (t[k] > 0) { add(m "tf", f[4] / t[k]); add(m "rf", f[5] / rss[k]); add(m "hf", f[6] / hwm[k]) }
                if (r + 0 > rounds) rounds = r + 0
            }
            if (rounds < 2) exit
            for (i = 1; i <= servers; i++) for (j = 1; j <= 2; j++) {
                x = order[i]; from = j == 1 ? "file" : "AXFR"; m = x " " from
                printf "%-6s %-11s %-5s %8.2f %8d %8d %8d %10s %9s %9s\n", "median", x, from, med(m "t"), med(m "rss"), med(m "hwm"), med(m "pss"),
                    fmt(med(m "tf")), fmt(med(m "rf")), fmt(med(m "hf"))
            }
        }' "$work/xin-load.txt"
    echo
    echo "One record added on the primary (knotc zone-set + zone-commit, serial + 1) while the secondary serves; via: how"
    echo "it took the change (the primary's log); update s: from the commit to the new name's first right answer;"
    echo "bench/pause.py asked www A every ms from 1 s before the commit to 2 s after that answer: the longest wait, waits"
    echo "over 50 ms, queries lost (1 s without an answer), p99; memory after, VmHWM the peak over the update$hwm_note."
    awk "$awk_stats"'
        { row[++n] = $0; if (!(($2) in seen)) { seen[$2] = 1; order[++servers] = $2 } }
        END {
            printf "%-6s %-11s %-5s %8s %11s %7s %6s %7s %8s %8s %8s\n", "round", "server", "via", "update s", "longest ms", ">50ms", "lost", "p99 ms", "RSS MiB", "HWM MiB", "PSS MiB"
            for (i = 1; i <= n; i++) {
                split(row[i], f, " "); r = f[1]; x = f[2]
                printf "%-6s %-11s %-5s %8s %11.1f %7d %6d %7.2f %8d %8d %8d\n", r, x, f[12], f[3] < 0 ? "none" : sprintf("%.2f", f[3] / 1000), f[4], f[5], f[6], f[8], f[9], f[10], f[11]
                if (f[3] >= 0) add(x "u", f[3] / 1000)
                add(x "l", f[4]); add(x "o", f[5]); add(x "lost", f[6]); add(x "p", f[8]); add(x "rss", f[9]); add(x "hwm", f[10]); add(x "pss", f[11])
                if (r + 0 > rounds) rounds = r + 0
            }
            if (rounds < 2) exit
            for (i = 1; i <= servers; i++) {
                x = order[i]
                printf "%-6s %-11s %-5s %8s %11.1f %7d %6d %7.2f %8d %8d %8d\n", "median", x, "", fmt(med(x "u")), med(x "l"), med(x "o"), med(x "lost"), med(x "p"), med(x "rss"), med(x "hwm"), med(x "pss")
            }
        }' "$work/xin-update.txt"
fi

if [ "$reload_names" -gt 0 ]; then
    say "generating the $reload_names-name zone for the reloads"
    python3 "$repo/bench/gen.py" --names "$reload_names" --zone "$work/reload.zone"
    records=$(grep -c '^[^$]' "$work/reload.zone")
    : >"$work/reload.txt"
    hwm_note=
    for round in $(seq "$rounds"); do
        for server in "${server_list[@]}"; do
            case $server in anycastdns | knot | nsd | baseline | aot) ;; *) continue ;; esac
            dir=$work/reload-$server
            rm -rf "$dir"
            mkdir -p "$dir"
            # Each server its own copy: the edit below changes it in place, as an operator's deploy would.
            cp "$work/reload.zone" "$dir/bench.test.zone"
            port=$(free_port)
            pid=$("start_$server" "$dir" "$dir/bench.test.zone" "$port")
            started+=("$pid")
            wait_for_answer "$server" "$pid" "$port" last.bench.test. 192.0.2.254 600 "$dir"
            sleep 5
            for reload in $(seq "$reloads"); do
                [ "$reload" -eq 1 ] || sleep 5
                read -r steady _ _ <<<"$(memory_mib "$pid")"
                start_pauser "$pid" "$port" "$dir"
                add_record "$dir/bench.test.zone" "edit$reload"
                start=$(date +%s%N)
                case $server in
                    knot) /usr/sbin/knotc -s "$dir/knot.sock" zone-reload bench.test. >"$dir/knotc.log" 2>&1 || { cat "$dir/knotc.log" >&2; die "knotc zone-reload failed"; } ;;
                    *) kill -HUP "$pid" ;;
                esac
                measure_edit "$server" "$pid" "$port" "edit$reload.bench.test." "$dir"
                reload_ms=$edit_ms
                echo "$round $server $reload_ms $longest $over $lost $queries $p99 $steady $hwm $rss $pss $reload" >>"$work/reload.txt"
                say "round $round: $server answered edit $reload $reload_ms ms after the reload; longest wait $longest ms; peak $hwm MiB"
            done
            stop_server "$pid"
            forget "$pid"
        done
    done
    echo
    echo "Zone reload: $reload_names names, $records records, one record added and the serial + 1 in the file, then"
    echo "SIGHUP (AnycastDns, NSD) or knotc zone-reload (Knot); reload s: from the signal to the new name's first right"
    echo "answer; bench/pause.py asked www A every ms from 1 s before the signal to 3 s after that answer: the longest"
    echo "wait, waits over 50 ms, queries lost (1 s without an answer), p99; steady: VmRSS before; HWM: the peak over"
    echo "the reload$hwm_note; RSS and PSS 5 s after the peak was read."
    [ "$reloads" -eq 1 ] || echo "$reloads reloads in a row per server process (round/reload); medians over all of them."
    awk -v reloads="$reloads" "$awk_stats"'
        { row[++n] = $0; if (!(($2) in seen)) { seen[$2] = 1; order[++servers] = $2 } }
        END {
            printf "%-6s %-11s %8s %11s %7s %6s %7s %10s %8s %8s %8s\n", "round", "server", "reload s", "longest ms", ">50ms", "lost", "p99 ms", "steady MiB", "HWM MiB", "RSS MiB", "PSS MiB"
            for (i = 1; i <= n; i++) {
                split(row[i], f, " "); r = f[1]; x = f[2]
                printf "%-6s %-11s %8s %11.1f %7d %6d %7.2f %10d %8d %8d %8d\n", (reloads > 1 ? r "/" f[13] : r), x, f[3] < 0 ? "none" : sprintf("%.2f", f[3] / 1000), f[4], f[5], f[6], f[8], f[9], f[10], f[11], f[12]
                if (f[3] >= 0) add(x "u", f[3] / 1000)
                add(x "l", f[4]); add(x "o", f[5]); add(x "lost", f[6]); add(x "p", f[8]); add(x "s", f[9]); add(x "hwm", f[10]); add(x "rss", f[11]); add(x "pss", f[12])
                if (r + 0 > rounds) rounds = r + 0
            }
            if (rounds < 2 && reloads < 2) exit
            for (i = 1; i <= servers; i++) {
                x = order[i]
                printf "%-6s %-11s %8s %11.1f %7d %6d %7.2f %10d %8d %8d %8d\n", "median", x, fmt(med(x "u")), med(x "l"), med(x "o"), med(x "lost"), med(x "p"), med(x "s"), med(x "hwm"), med(x "rss"), med(x "pss")
            }
        }' "$work/reload.txt"
fi
