#!/bin/bash
# Installs what the trial needs on a Debian 12 host (as root) and the podman runtime wrapper.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
apt-get update -qq
apt-get install -y -qq podman runc mmdebstrap socat curl jq python3-yaml bind9-dnsutils >/dev/null
# The wrapper drops process.rlimits from each container's config.json, then runs runc: the
# kernel here refuses the rlimits podman sets. It goes alone in its directory, named runc.
install -D -m 0755 "$HERE/runc-norlimit" "$RUNTIME"
p info --format '{{.Host.OCIRuntime.Name}} {{.Version.Version}}' >/dev/null
say "podman ready: podman --runtime $RUNTIME"
