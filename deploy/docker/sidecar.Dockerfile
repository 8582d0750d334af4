# The BIRD sidecar of one PoP: BIRD 2 (Debian 12's bird2, the version the lab tests run) and `anycastdns watchdog`,
# started together by sidecar-entrypoint.sh, which renders deploy/bird/bird.conf from the environment first.
#
# Build from the repository root:
#   docker build -f deploy/docker/sidecar.Dockerfile -t anycastdns-bird:dev .
# The build arguments BASE_IMAGE, SDK_IMAGE, PUBLISH and APP_UID are those of deploy/docker/Dockerfile; without a
# registry: --build-arg BASE_IMAGE=localhost/anycastdns-base:bookworm --build-arg PUBLISH=prebuilt.
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
# The watchdog is the same anycastdns program as the server, published as native code (see Dockerfile): no .NET
# runtime in the image (Debian has no .NET 10 package, and .NET 10 ships no Debian images).

ARG BASE_IMAGE=debian:bookworm-slim
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG PUBLISH=build

FROM ${SDK_IMAGE} AS build
ARG TARGETARCH
RUN apt-get update && apt-get install -y --no-install-recommends clang zlib1g-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/AnycastDns/AnycastDns.csproj src/AnycastDns/
COPY src/AnycastDns.Server/AnycastDns.Server.csproj src/AnycastDns.Server/
COPY src/AnycastDns.Authority/AnycastDns.Authority.csproj src/AnycastDns.Authority/
COPY src/AnycastDns.Zones/AnycastDns.Zones.csproj src/AnycastDns.Zones/
COPY src/AnycastDns.Protocol/AnycastDns.Protocol.csproj src/AnycastDns.Protocol/
RUN dotnet restore src/AnycastDns -a "$TARGETARCH" -p:PublishAot=true
COPY src/ src/
RUN dotnet publish src/AnycastDns -c Release -a "$TARGETARCH" -p:PublishAot=true -p:CopyOutputSymbolsToPublishDirectory=false --no-restore -o /out

FROM ${BASE_IMAGE} AS prebuilt
COPY artifacts/publish/ /out/

FROM ${PUBLISH} AS publish

FROM ${BASE_IMAGE}
ARG APP_UID=1654
# libssl3 for the runtime's crypto (loaded on demand), libstdc++6 for a JIT publish given as prebuilt; no ICU: the project builds with
# InvariantGlobalization. apt-get runs only for what the base lacks (see Dockerfile).
RUN missing=; \
    for p in bird2 iproute2 libcap2-bin libssl3 libstdc++6; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"; done; \
    if [ -n "$missing" ]; then \
        apt-get update && apt-get install -y --no-install-recommends $missing && rm -rf /var/lib/apt/lists/*; \
    fi \
    && setcap cap_net_bind_service=+ep /usr/sbin/bird \
    && getcap /usr/sbin/bird | grep -q cap_net_bind_service \
    && groupadd --gid "$APP_UID" anycastdns \
    && useradd --uid "$APP_UID" --gid "$APP_UID" --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin anycastdns \
    && mkdir -p /run/bird /etc/anycastdns \
    && chown "$APP_UID:$APP_UID" /run/bird
COPY --from=publish /out /opt/anycastdns
RUN ln -s /opt/anycastdns/anycastdns /usr/local/bin/anycastdns
COPY deploy/bird/bird.conf /etc/anycastdns/bird.conf.template
COPY deploy/bird/render-bird-conf.sh /usr/local/bin/render-bird-conf
COPY deploy/docker/sidecar-entrypoint.sh /usr/local/bin/sidecar-entrypoint
# chmod here, not COPY --chmod: the classic builder and older podman do not know --chmod.
RUN chmod 0755 /usr/local/bin/render-bird-conf /usr/local/bin/sidecar-entrypoint

USER $APP_UID:$APP_UID
ENTRYPOINT ["/usr/local/bin/sidecar-entrypoint"]
