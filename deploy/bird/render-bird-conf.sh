#!/usr/bin/env bash
# Renders bird.conf (this folder's template, the one the lab runs) for one PoP from environment variables, the way
# the lab does it: only the `define` values change, and the log goes to standard error (a container has no syslog).
# Checks every value before writing, then has BIRD parse the result (`bird -p`), so a typo fails here with one line
# naming the variable, not later inside BIRD.
#
#   render-bird-conf.sh TEMPLATE OUTPUT      (OUTPUT "-" writes to standard output)
#
# Required:  ROUTER_ID       this PoP's unique IPv4 router id (usually its address on the link to the router)
#            ROUTER_IP       the upstream router's address on that link           -> UPSTREAM_ADDRESS
#            LOCAL_AS        this PoP's AS number
#            PEER_AS         the upstream router's AS number                        -> UPSTREAM_AS
#            ANYCAST_PREFIX  the IPv4 prefix every PoP announces, e.g. 198.19.53.0/24
# Optional:  LOCAL_ADDRESS   this host's address on the link (default: ROUTER_ID)
#            HOLD_TIME, KEEPALIVE_TIME, CONNECT_RETRY_TIME   BGP timers in seconds (default: the template's 9, 3, 5)
#            BIRD_LOG        the log line (default: "log stderr all;")
set -euo pipefail

die() {
    echo "render-bird-conf: $*" >&2
    exit 1
}

[[ $# -eq 2 ]] || die "usage: render-bird-conf.sh TEMPLATE OUTPUT (OUTPUT - for standard output)"
template=$1
output=$2
[[ -r $template ]] || die "$template: cannot read the template"

ipv4='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
ipv4="$ipv4\\.$ipv4\\.$ipv4\\.$ipv4"

# need NAME KIND: the variable must be set and be a KIND (ipv4, prefix4, as, seconds).
need() {
    local name=$1 kind=$2 value
    value=${!name-}
    [[ -n $value ]] || die "$name is not set (see the top of $0)"
    case $kind in
        ipv4)
            # An IPv6-primary Kubernetes node gives status.hostIP as IPv6: say so, rather than render a broken config.
            [[ $value != *:* ]] || die "$name='$value' is an IPv6 address: the template runs BGP over IPv4; set $name to the node's IPv4 address"
            [[ $value =~ ^$ipv4$ ]] || die "$name='$value' is not an IPv4 address" ;;
        prefix4)
            if ! [[ $value =~ ^$ipv4/([0-9]+)$ ]] || ((BASH_REMATCH[-1] > 32)); then
                die "$name='$value' is not an IPv4 prefix (address/length)"
            fi
            ;;
        as)
            # 1..4294967295 (RFC 6793), written without leading zeros.
            if ! [[ $value =~ ^[1-9][0-9]{0,9}$ ]] || ((value > 4294967295)); then
                die "$name='$value' is not an AS number"
            fi
            ;;
        seconds) [[ $value =~ ^[1-9][0-9]{0,4}$ ]] || die "$name='$value' is not a whole number of seconds" ;;
    esac
}

LOCAL_ADDRESS=${LOCAL_ADDRESS:-${ROUTER_ID-}}
need ROUTER_ID ipv4
need LOCAL_ADDRESS ipv4
need ROUTER_IP ipv4
need LOCAL_AS as
need PEER_AS as
need ANYCAST_PREFIX prefix4
[[ $LOCAL_AS != "$PEER_AS" ]] || die "LOCAL_AS and PEER_AS are both $LOCAL_AS: the template speaks eBGP to the upstream"
for timer in HOLD_TIME KEEPALIVE_TIME CONNECT_RETRY_TIME; do
    [[ -z ${!timer-} ]] || need "$timer" seconds
done
log_line=${BIRD_LOG:-"log stderr all;"}

text=$(<"$template")

# define NAME VALUE: sets `define NAME = ...;`, which must appear exactly once at the start of a line (as the lab
# requires: a template that lost one of these lines fails here, naming it).
define() {
    local name=$1 value=$2 pattern count
    pattern="^define $name = [^;]+;"
    count=$(grep -cE "$pattern" <<<"$text" || true)
    [[ $count -eq 1 ]] || die "$template: expected one 'define $name = ...;', found $count"
    text=$(sed -E "s|$pattern|define $name = $value;|" <<<"$text")
}

grep -qx 'log syslog all;' <<<"$text" || die "$template: expected the line 'log syslog all;'"
text=${text/$'\n'"log syslog all;"$'\n'/$'\n'"$log_line"$'\n'}
define ROUTER_ID "$ROUTER_ID"
define LOCAL_ADDRESS "$LOCAL_ADDRESS"
define LOCAL_AS "$LOCAL_AS"
define UPSTREAM_ADDRESS "$ROUTER_IP"
define UPSTREAM_AS "$PEER_AS"
define ANYCAST_PREFIX "$ANYCAST_PREFIX"
[[ -z ${HOLD_TIME-} ]] || define HOLD_TIME "$HOLD_TIME"
[[ -z ${KEEPALIVE_TIME-} ]] || define KEEPALIVE_TIME "$KEEPALIVE_TIME"
[[ -z ${CONNECT_RETRY_TIME-} ]] || define CONNECT_RETRY_TIME "$CONNECT_RETRY_TIME"

header="# Rendered by render-bird-conf.sh from $template for router id $ROUTER_ID; edit the template, not this file."

# Written to a temporary file and parsed there, then renamed into place (or printed): a running BIRD's `configure`
# never sees half a file, and a file BIRD refuses never replaces a good one.
if [[ $output == - ]]; then
    tmp=$(mktemp)
else
    tmp=$(mktemp "$output.XXXXXX")
fi
trap 'rm -f "$tmp"' EXIT
printf '%s\n%s\n' "$header" "$text" >"$tmp"
if command -v bird >/dev/null; then
    bird -p -c "$tmp" || die "BIRD refuses the rendered configuration (its message is above); nothing written"
else
    echo "render-bird-conf: bird is not installed here: the result was not parsed" >&2
fi
if [[ $output == - ]]; then
    cat "$tmp"
else
    chmod 0644 "$tmp"
    mv -f "$tmp" "$output"
fi
