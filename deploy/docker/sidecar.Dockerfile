# syntax=docker/dockerfile:1
# The BIRD sidecar of one PoP: BIRD 2 (Debian 12's bird2, the version the lab tests run) and `anycastdns watchdog`,
# started together by sidecar-entrypoint.sh, which renders deploy/bird/bird.conf from the environment first.
#
# Build from the repository root:
#   docker build -f deploy/docker/sidecar.Dockerfile -t anycastdns-bird:dev .
# Check the rendered configuration without starting anything:
#   docker run --rm -e ROUTER_ID=192.0.2.10 -e ROUTER_IP=192.0.2.1 -e LOCAL_AS=64512 -e PEER_AS=64496 \
#     -e ANYCAST_PREFIX=198.19.53.0/24 anycastdns-bird:dev render
#
# Who may do what:
#   - BIRD and the watchdog run as UID/GID 1654, the UID of the server image's `app` user. BIRD creates its control
#     socket with mode 0660 owned by the user it runs as, so the server container, sharing the socket's folder
#     (/run/bird, a volume), can enable and disable the announcement; nobody else can.
#   - BIRD listens on TCP port 179 for BGP, a port below 1024: /usr/sbin/bird gets cap_net_bind_service as a file
#     capability, with the server's conditions (see Dockerfile): NET_BIND_SERVICE in the bounding set, no_new_privs
#     off. Checked: BIRD as UID 1654 with only that capability listens on 179 and brings BGP up. It needs nothing else:
#     the template has no `kernel` protocol, so BIRD never writes routes and needs no CAP_NET_ADMIN. BIRD's own
#     `-u`/`-g` privilege drop is not used: it asks for NET_ADMIN, NET_RAW and NET_BROADCAST as well.
#   - iproute2 is here for the one step that does need CAP_NET_ADMIN, putting the anycast address on `lo` (a
#     separate one-shot container or init container, run as root with only NET_ADMIN).
#
# The watchdog is the same anycastdns program as the server, published self-contained: Debian has no .NET 10
# runtime package, and .NET 10 ships no Debian images.

FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TARGETARCH
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/AnycastDns/AnycastDns.csproj src/AnycastDns/
COPY src/AnycastDns.Server/AnycastDns.Server.csproj src/AnycastDns.Server/
COPY src/AnycastDns.Authority/AnycastDns.Authority.csproj src/AnycastDns.Authority/
COPY src/AnycastDns.Zones/AnycastDns.Zones.csproj src/AnycastDns.Zones/
COPY src/AnycastDns.Protocol/AnycastDns.Protocol.csproj src/AnycastDns.Protocol/
RUN dotnet restore src/AnycastDns -a "$TARGETARCH" -p:SelfContained=true
COPY src/ src/
RUN dotnet publish src/AnycastDns -c Release -a "$TARGETARCH" --self-contained true --no-restore -o /out

FROM debian:bookworm-slim
# libstdc++6 for the .NET runtime, libssl3 for its crypto (loaded on demand); no ICU: the project builds with
# InvariantGlobalization.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bird2 iproute2 libcap2-bin libssl3 libstdc++6 \
    && rm -rf /var/lib/apt/lists/* \
    && setcap cap_net_bind_service=+ep /usr/sbin/bird \
    && getcap /usr/sbin/bird | grep -q cap_net_bind_service \
    && groupadd --gid 1654 anycastdns \
    && useradd --uid 1654 --gid 1654 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin anycastdns \
    && mkdir -p /run/bird /etc/anycastdns \
    && chown 1654:1654 /run/bird
COPY --from=build /out /opt/anycastdns
RUN ln -s /opt/anycastdns/anycastdns /usr/local/bin/anycastdns
COPY deploy/bird/bird.conf /etc/anycastdns/bird.conf.template
COPY --chmod=0755 deploy/bird/render-bird-conf.sh /usr/local/bin/render-bird-conf
COPY --chmod=0755 deploy/docker/sidecar-entrypoint.sh /usr/local/bin/sidecar-entrypoint

USER 1654:1654
ENTRYPOINT ["/usr/local/bin/sidecar-entrypoint"]
