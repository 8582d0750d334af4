#!/usr/bin/env bash
# Takes down the lab of deploy/lab/up.sh: stops the processes it started (by the PIDs it wrote, and only when that
# PID still runs inside one of the lab's namespaces), deletes the lab's namespaces by name and its directory.
# Safe to run twice, or after a half-made lab. Same environment as up.sh: LAB, LAB_DIR.
set -euo pipefail

LAB=${LAB:-adns-lab}
LAB_DIR=${LAB_DIR:-/run/$LAB}
roles=(router pop1 pop2 client)

[ "$(id -u)" -eq 0 ] || { echo "down.sh: needs root" >&2; exit 1; }

# A PID that is ours: it runs, and inside the namespace of the role it was started in.
ours() {
    local pid=$1 role=$2
    [ -d "/proc/$pid" ] && [ "$(ip netns identify "$pid" 2>/dev/null)" = "$LAB-$role" ]
}

pids=()
for role in "${roles[@]}"; do
    for file in "$LAB_DIR/$role"/*.pid; do
        [ -f "$file" ] || continue
        pid=$(cat "$file")
        if ours "$pid" "$role"; then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid:$role:$(basename "$file" .pid)")
        fi
    done
done

# SIGTERM lets the servers withdraw and drain (at most their --drain-seconds, 10 s); then SIGKILL what is left.
for ((i = 0; i < 75; i++)); do
    left=0
    for entry in "${pids[@]}"; do
        ours "${entry%%:*}" "$(echo "$entry" | cut -d: -f2)" && left=1
    done
    [ "$left" -eq 0 ] && break
    sleep 0.2
done
for entry in "${pids[@]}"; do
    pid=${entry%%:*}
    role=$(echo "$entry" | cut -d: -f2)
    if ours "$pid" "$role"; then
        echo "down.sh: $(echo "$entry" | cut -d: -f3) in $LAB-$role (pid $pid) did not stop; SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
done

for role in "${roles[@]}"; do
    if [ -e "/run/netns/$LAB-$role" ]; then
        ip netns delete "$LAB-$role"
    fi
done
rm -rf "$LAB_DIR"
echo "down.sh: lab $LAB is down"
