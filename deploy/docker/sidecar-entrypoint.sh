#!/usr/bin/env bash
# The BIRD sidecar of one PoP: renders bird.conf from the environment, then runs BIRD and `anycastdns watchdog` side
# by side and exits as soon as either one does, so that the container restarts with both. A BIRD without its
# watchdog would keep a hung server announced; a watchdog without BIRD has nothing to withdraw (and BIRD gone means
# its BGP session is gone, which withdraws the route anyway).
#
#   sidecar-entrypoint.sh             run BIRD and the watchdog (the default)
#   sidecar-entrypoint.sh render      print the rendered bird.conf (after BIRD parsed it) and exit
#   sidecar-entrypoint.sh CMD [ARG]   run CMD instead, e.g. `birdc -s /run/bird/bird.ctl show protocols`
#
# Environment (see deploy/bird/render-bird-conf.sh for the BGP values: ROUTER_ID, ROUTER_IP, LOCAL_AS, PEER_AS,
# ANYCAST_PREFIX and the optional LOCAL_ADDRESS and timers):
#   WATCHDOG_TARGET       the DNS server's unicast address, ip:port, which the watchdog queries. Not the anycast
#                         address: a dead or hung server stops answering on both, and probes of the anycast one
#                         would count as anycast traffic and keep the server's drain from ending early.
#   WATCHDOG_INTERVAL_MS, WATCHDOG_TIMEOUT_MS, WATCHDOG_FAIL_AFTER   (defaults 150, 200, 3: a dead server is
#                         withdrawn within 1 s with room for a container runtime's delays; 200/250/3 measured
#                         0.87-0.89 s after podman kill)
#   BIRD_PROTOCOL         the static protocol holding the prefix (default anycast, as in bird.conf)
#   BIRD_RUN_DIR          the folder shared with the DNS server container (default /run/bird): the control socket
#                         bird.ctl and the rendered bird.conf go there
set -euo pipefail

BIRD_TEMPLATE=${BIRD_TEMPLATE:-/etc/anycastdns/bird.conf.template}
BIRD_RUN_DIR=${BIRD_RUN_DIR:-/run/bird}
BIRD_SOCKET=${BIRD_SOCKET:-$BIRD_RUN_DIR/bird.ctl}
BIRD_CONF=${BIRD_CONF:-$BIRD_RUN_DIR/bird.conf}
BIRD_PROTOCOL=${BIRD_PROTOCOL:-anycast}
RENDER=${RENDER:-render-bird-conf}

log() {
    echo "sidecar: $*" >&2
}

if [[ ${1-} == render ]]; then
    exec "$RENDER" "$BIRD_TEMPLATE" -
fi
if [[ $# -gt 0 ]]; then
    exec "$@"
fi

if [[ -z ${WATCHDOG_TARGET-} ]]; then
    log "WATCHDOG_TARGET is not set: give the DNS server's unicast address, e.g. 192.0.2.10:53"
    exit 2
fi

"$RENDER" "$BIRD_TEMPLATE" "$BIRD_CONF"

# A socket left by an earlier run would let the wait below pass before this BIRD listens (BIRD replaces it anyway).
rm -f "$BIRD_SOCKET"
# BIRD runs as this container's user: no -u/-g, which would make it drop to another user and ask for CAP_NET_ADMIN
# and CAP_NET_RAW besides. It creates the control socket 0660 and owned by this user, so the DNS server container
# (the same UID) can enable and disable the announcement through it. The `anycast` protocol starts disabled.
bird -f -c "$BIRD_CONF" -s "$BIRD_SOCKET" &
bird_pid=$!
stopping=
# SIGTERM (docker stop, the kubelet): stop both. BIRD closes its BGP session with a Cease notification, so the
# upstream drops the route at once; the watchdog exits leaving the route as it is.
trap 'stopping=1; kill -TERM ${watchdog_pid-} "$bird_pid" 2>/dev/null || true' TERM INT

for _ in $(seq 50); do
    [[ -S $BIRD_SOCKET ]] && break
    kill -0 "$bird_pid" 2>/dev/null || break
    sleep 0.1
done

anycastdns watchdog \
    --target "$WATCHDOG_TARGET" \
    --bird-socket "$BIRD_SOCKET" \
    --bird-protocol "$BIRD_PROTOCOL" \
    --interval-ms "${WATCHDOG_INTERVAL_MS:-150}" \
    --timeout-ms "${WATCHDOG_TIMEOUT_MS:-200}" \
    --fail-after "${WATCHDOG_FAIL_AFTER:-3}" &
watchdog_pid=$!
[[ -z $stopping ]] || kill -TERM "$watchdog_pid" 2>/dev/null || true

set +e
wait -n -p exited "$bird_pid" "$watchdog_pid"
status=$?
if [[ -z $stopping ]]; then
    if [[ ${exited-} == "$bird_pid" ]]; then name=bird other=$watchdog_pid; else name=watchdog other=$bird_pid; fi
    log "$name exited with status $status; stopping the other and exiting, for the container to restart"
    kill -TERM "$other" 2>/dev/null
fi
wait "$bird_pid" "$watchdog_pid" 2>/dev/null
if [[ -n $stopping ]]; then
    log "stopped"
    exit 0
fi
# Whatever the exit status was, an exit nobody asked for is a failure: restart.
exit $((status == 0 ? 1 : status))
