# syntax=docker/dockerfile:1
# haproxy-dns-agent: build with the full Node.js 24 image, run on distroless Node.js 24
# (no shell, no package manager), as a non-root user.

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM gcr.io/distroless/nodejs24-debian12:nonroot AS runtime
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# 65532: the distroless "nonroot" user. Share the admin socket through a group (fsGroup).
USER 65532:65532
ENV NODE_ENV=production
EXPOSE 9090
# A small young generation and code compiled no further than the baseline tier (the bin sets both itself when not given: one Node start saved): see src/main.ts and bench/results.
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=1", "--max-opt=1", "/app/dist/main.js"]
CMD ["--help"]
