# syntax=docker/dockerfile:1
# haproxy-dns-agent: built on Node.js 24, run on distroless Node.js 24 (no shell, no
# package manager) as a non-root user. scripts/build-image builds it with docker or podman;
# scripts/release builds it for linux/amd64 and linux/arm64 as one manifest list.
#
# The base images are build arguments, so a mirror or an air-gapped registry can stand in:
#   --build-arg BUILD_IMAGE=mirror.example.com/library/node:24-bookworm-slim
#   --build-arg RUNTIME_IMAGE=mirror.example.com/distroless/nodejs24-debian12:nonroot
# Keep both on the same Node.js major: the ENTRYPOINT's V8 flags are those of
# src/v8-flags.ts for that major (test/deploy/dockerfile.test.ts checks it).
ARG BUILD_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

# The build stage runs on the machine's own platform whatever the target's (--platform
# linux/arm64 on an amd64 host needs no emulation): its output, the compiled JavaScript and
# the production node_modules, holds no native code (a test checks the lock file for it).
# Only the runtime stage, which copies and runs nothing, is the target's.
FROM --platform=$BUILDPLATFORM ${BUILD_IMAGE} AS build
WORKDIR /src
# Dependencies first: a change to the code alone does not install them again.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# The target's platform said again: buildah before 1.30 (Debian 12's podman 4.3) would look
# for this stage's image on the platform of the FROM above. podman 4.3 sets neither
# platform argument: scripts/build-image and scripts/release pass both.
FROM --platform=$TARGETPLATFORM ${RUNTIME_IMAGE} AS runtime
# scripts/build-image passes these from package.json and git.
ARG VERSION=0.2.0
ARG SOURCE=""
ARG REVISION=""
LABEL org.opencontainers.image.title="haproxy-dns-agent" \
      org.opencontainers.image.description="DNS service discovery for HAProxy through its runtime API: SRV answers become server-template slots." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}"
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY LICENSE ./LICENSE
# 65532: the distroless "nonroot" user. Share the admin socket through a group (fsGroup).
USER 65532:65532
ENV NODE_ENV=production
EXPOSE 9090
# The Node.js flags of src/v8-flags.ts for Node.js 24: SIGUSR1 kept from the inspector, and
# V8's (the bin adds them itself when not given: given here, Node starts once, and SIGUSR1
# never reaches the inspector, even while the bin loads).
ENTRYPOINT ["/nodejs/bin/node", "--disable-sigusr1", "--max-semi-space-size=1", "--max-opt=1", "/app/dist/main.js"]
CMD ["--help"]
