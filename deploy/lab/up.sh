#!/usr/bin/env bash
# The anycast lab, by hand: two PoPs announce one anycast address over eBGP to a router that spreads a client's
# queries over both (ECMP), each PoP with AnycastDns, its BIRD 2 and the watchdog. The same topology as the lab test
# (tests/AnycastDns.Lab.Tests/AnycastLabTests.cs). Needs root, iproute2, bird2, dig (bind9-dnsutils) and .NET 10.
#
#   client 198.18.3.1 ── 198.18.3.2  router (AS 64513, BIRD: ECMP into its kernel table)
#                                    198.18.1.2 ── 198.18.1.1 pop1 (AS 64512)  lo: 198.19.53.53/32
#                                    198.18.2.2 ── 198.18.2.1 pop2 (AS 64512)  lo: 198.19.53.53/32
#
# Usage: deploy/lab/up.sh            (then deploy/lab/down.sh)
# Environment:
#   ANYCASTDNS       the server to run: a published `anycastdns` executable or an `anycastdns.dll` (run with
#                    `dotnet exec`); default the newest build of src/AnycastDns (`dotnet build` or
#                    `dotnet publish src/AnycastDns -c Release -o /opt/anycastdns` then ANYCASTDNS=/opt/anycastdns/anycastdns)
#   ANYCASTDNS_ZONES the zone folder both PoPs serve (default: the repository's zones/)
#   LAB              the prefix of the namespace names (default adns-lab: adns-lab-router, -pop1, -pop2, -client)
#   LAB_DIR          configurations, sockets, logs and PID files (default /run/$LAB)
# Every address is from 198.18.0.0/15 (RFC 2544, benchmarking), inside namespaces this script makes.
set -euo pipefail

repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
LAB=${LAB:-adns-lab}
LAB_DIR=${LAB_DIR:-/run/$LAB}
zones=${ANYCASTDNS_ZONES:-$repo/zones}

anycast=198.19.53.53
router_as=64513
pop_as=64512
drain_seconds=10
http_port=8053

die() { echo "up.sh: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
for tool in ip bird birdc dig; do
    command -v "$tool" >/dev/null || die "$tool not found: apt-get install iproute2 bird2 bind9-dnsutils"
done
[ -d "$zones" ] || die "no zone folder $zones (set ANYCASTDNS_ZONES)"

# The server: $ANYCASTDNS, or the newest anycastdns.dll under src/AnycastDns/bin.
if [ -n "${ANYCASTDNS:-}" ]; then
    server=$ANYCASTDNS
else
    server=
    for dll in "$repo"/src/AnycastDns/bin/*/net10.0/anycastdns.dll; do
        if [ -f "$dll" ] && { [ -z "$server" ] || [ "$dll" -nt "$server" ]; }; then server=$dll; fi
    done
    [ -n "$server" ] || die "no build of anycastdns: run 'dotnet build src/AnycastDns' or set ANYCASTDNS"
fi
[ -f "$server" ] || die "ANYCASTDNS=$server does not exist"
case "$server" in
    *.dll) command -v dotnet >/dev/null || die "dotnet not found (needed for $server)"
           run=("$(command -v dotnet)" exec "$server") ;;
    *)     run=("$server") ;;
esac

for role in router pop1 pop2 client; do
    [ ! -e "/run/netns/$LAB-$role" ] || die "namespace $LAB-$role exists: the lab is up (deploy/lab/down.sh takes it down)"
done
[ ! -e "$LAB_DIR" ] || die "$LAB_DIR exists: the lab is up, or was not taken down (deploy/lab/down.sh)"

# Whatever fails from here on, take down what was made.
up=0
taken_down() {
    if [ "$up" -eq 0 ]; then
        echo "up.sh: failed; taking the lab down" >&2
        LAB=$LAB LAB_DIR=$LAB_DIR "$repo/deploy/lab/down.sh" >&2 || true
    fi
}
trap taken_down EXIT
mkdir -p "$LAB_DIR"
echo "$server" >"$LAB_DIR/server"
# The servers' working folder (where an appsettings.json would be read): the lab's own, not wherever this ran from.
cd "$LAB_DIR"

ns() { echo "$LAB-$1"; }
in_ns() { local space=$1; shift; ip netns exec "$(ns "$space")" "$@"; }

for role in router pop1 pop2 client; do
    ip netns add "$(ns "$role")"
    ip -n "$(ns "$role")" link set lo up
    # No reverse-path filter anywhere: a draining PoP answers from the anycast address after the router stopped
    # routing it there, which strict uRPF on the router would drop.
    in_ns "$role" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done

# link <ns> <interface> <address/len> <peer ns> <peer interface> <peer address/len>
link() {
    ip -n "$(ns "$1")" link add "$2" type veth peer name "$5" netns "$(ns "$4")"
    ip -n "$(ns "$1")" address add "$3" dev "$2"
    ip -n "$(ns "$4")" address add "$6" dev "$5"
    ip -n "$(ns "$1")" link set "$2" up
    ip -n "$(ns "$4")" link set "$5" up
}
link pop1 upstream 198.18.1.1/30 router pop1 198.18.1.2/30
link pop2 upstream 198.18.2.1/30 router pop2 198.18.2.2/30
link client upstream 198.18.3.1/30 router client 198.18.3.2/30

# The router forwards, and hashes flows over the equal paths by ports too (L4), so that a client's queries, each
# from its own source port, spread over both PoPs.
in_ns router sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1
ip -n "$(ns client)" route add default via 198.18.3.2
for n in 1 2; do
    ip -n "$(ns "pop$n")" address add "$anycast/32" dev lo
    ip -n "$(ns "pop$n")" route add default via "198.18.$n.2"
done

# --- BIRD ---------------------------------------------------------------------------------------------------------
mkdir -p "$LAB_DIR/router"
cat >"$LAB_DIR/router/bird.conf" <<EOF
log stderr all;
router id 198.18.3.2;

protocol device {
}

# Equal routes to the anycast address from both PoPs become one multipath route in the kernel.
protocol kernel {
    merge paths yes limit 8;
    ipv4 {
        import none;
        export where net = $anycast/32;
    };
}

template bgp pop {
    local as $router_as;
    hold time 3;
    keepalive time 1;
    connect delay time 1;
    connect retry time 1;
    error wait time 1, 2;
    ipv4 {
        import where net = $anycast/32;
        export none;
    };
}

protocol bgp pop1 from pop {
    local 198.18.1.2 as $router_as;
    neighbor 198.18.1.1 as $pop_as;
}

protocol bgp pop2 from pop {
    local 198.18.2.2 as $router_as;
    neighbor 198.18.2.1 as $pop_as;
}
EOF

# Each PoP runs deploy/bird/bird.conf with its values in the define lines (and short timers).
pop_bird_conf() {
    local n=$1
    sed -e "s|^log syslog all;|log stderr all;|" \
        -e "s|^define ROUTER_ID = [^;]*;|define ROUTER_ID = 198.18.$n.1;|" \
        -e "s|^define LOCAL_ADDRESS = [^;]*;|define LOCAL_ADDRESS = 198.18.$n.1;|" \
        -e "s|^define LOCAL_AS = [^;]*;|define LOCAL_AS = $pop_as;|" \
        -e "s|^define UPSTREAM_ADDRESS = [^;]*;|define UPSTREAM_ADDRESS = 198.18.$n.2;|" \
        -e "s|^define UPSTREAM_AS = [^;]*;|define UPSTREAM_AS = $router_as;|" \
        -e "s|^define ANYCAST_PREFIX = [^;]*;|define ANYCAST_PREFIX = $anycast/32;|" \
        -e "s|^define HOLD_TIME = [^;]*;|define HOLD_TIME = 3;|" \
        -e "s|^define KEEPALIVE_TIME = [^;]*;|define KEEPALIVE_TIME = 1;|" \
        -e "s|^define CONNECT_RETRY_TIME = [^;]*;|define CONNECT_RETRY_TIME = 1;|" \
        "$repo/deploy/bird/bird.conf"
}
for n in 1 2; do
    mkdir -p "$LAB_DIR/pop$n"
    pop_bird_conf "$n" >"$LAB_DIR/pop$n/bird.conf"
done

# start <role> <name> <command...>: runs the command in the role's namespace in the background, log and PID in
# $LAB_DIR/<role>/<name>.log|.pid. `ip netns exec` execs the command in place, so the PID is the command's own.
start() {
    local role=$1 name=$2
    shift 2
    ip netns exec "$(ns "$role")" "$@" >"$LAB_DIR/$role/$name.log" 2>&1 </dev/null &
    echo $! >"$LAB_DIR/$role/$name.pid"
}

# wait_for <seconds> <what> <command...>: polls every 0.2 s, bounded.
wait_for() {
    local seconds=$1 what=$2 i
    shift 2
    for ((i = 0; i < seconds * 5; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    die "$what: not within $seconds s"
}

for role in router pop1 pop2; do
    start "$role" bird bird -f -c "$LAB_DIR/$role/bird.conf" -s "$LAB_DIR/$role/bird.ctl"
done
for role in router pop1 pop2; do
    wait_for 10 "bird in $(ns "$role") answering on $LAB_DIR/$role/bird.ctl" birdc -s "$LAB_DIR/$role/bird.ctl" show status
done

# --- AnycastDns and its watchdog in each PoP ---------------------------------------------------------------------
# The server is started by a script of its own, so that a stopped or killed one can be started again by hand.
for n in 1 2; do
    serve=("${run[@]}" serve --zones "$zones"
        --listen "$anycast:53" --listen "198.18.$n.1:53" --anycast-address "$anycast" --pop-id "pop$n"
        --bird-socket "$LAB_DIR/pop$n/bird.ctl" --http "127.0.0.1:$http_port" --drain-seconds "$drain_seconds"
        --maintenance-file "$LAB_DIR/pop$n/maintenance")
    cat >"$LAB_DIR/pop$n/start-anycastdns" <<EOF
#!/usr/bin/env bash
# Starts pop$n's anycastdns in the background (again); written by deploy/lab/up.sh.
set -euo pipefail
cd $(printf '%q' "$LAB_DIR")
ip netns exec $(ns "pop$n") $(printf '%q ' "${serve[@]}")>>pop$n/anycastdns.log 2>&1 </dev/null &
echo \$! >pop$n/anycastdns.pid
EOF
    chmod +x "$LAB_DIR/pop$n/start-anycastdns"
    "$LAB_DIR/pop$n/start-anycastdns"
    start "pop$n" watchdog "${run[@]}" watchdog --target "198.18.$n.1:53" --bird-socket "$LAB_DIR/pop$n/bird.ctl"
done

two_paths() {
    [ "$(ip -n "$(ns router)" route show "$anycast" | grep -c nexthop)" -eq 2 ]
}
wait_for 30 "the router's route to $anycast over both PoPs" two_paths
up=1

cat <<EOF

The lab is up ($LAB_DIR). The router's route to the anycast address, over both PoPs:
$(ip -n "$(ns router)" route show "$anycast" | sed 's/^/    /')

Try:
  # which PoP answers: each query from its own source port, hashed over both paths
  for i in 1 2 3 4 5 6; do ip netns exec $(ns client) dig @$anycast CH TXT id.server +short; done
  ip netns exec $(ns client) dig @$anycast www.example.com A

  # BGP: the router's view and a PoP's
  birdc -s $LAB_DIR/router/bird.ctl show route all $anycast/32
  birdc -s $LAB_DIR/pop1/bird.ctl show protocols
  ip -n $(ns router) route show $anycast

  # a PoP's state
  ip netns exec $(ns pop1) curl -s http://127.0.0.1:$http_port/state

  # maintenance: the route from pop1 goes, pop1 still answers its unicast address
  ip netns exec $(ns pop1) ${run[*]} drain --http 127.0.0.1:$http_port
  ip netns exec $(ns client) dig @198.18.1.1 CH TXT id.server +short
  ip netns exec $(ns pop1) ${run[*]} undrain --http 127.0.0.1:$http_port
  touch $LAB_DIR/pop1/maintenance     # the same by file; rm to end it

  # a graceful stop (withdraw, drain, exit 0) and a crash (the watchdog withdraws); then start them again
  kill -TERM \$(cat $LAB_DIR/pop1/anycastdns.pid)
  kill -KILL \$(cat $LAB_DIR/pop2/anycastdns.pid)
  $LAB_DIR/pop1/start-anycastdns; $LAB_DIR/pop2/start-anycastdns

  # BIRD forgets the runtime enable on configure; the server re-asserts it within 2 s
  birdc -s $LAB_DIR/pop1/bird.ctl configure

Logs: $LAB_DIR/<router|pop1|pop2>/<bird|anycastdns|watchdog>.log
Take it down: deploy/lab/down.sh
EOF
