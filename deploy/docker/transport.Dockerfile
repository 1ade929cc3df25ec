# syntax=docker/dockerfile:1.7
# sipnats transport: the SIP edge (listeners, transaction layer, NATS publishing).
# Build from the repository root:
#   docker build -f deploy/docker/transport.Dockerfile -t sipnats/transport:0.1.0 .
# Stage 1 installs the workspace from the lockfile and compiles TypeScript; stage 2 gets only the
# compiled service and its production dependencies (pnpm deploy) on a slim Node 20, as a non-root user.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
ENV PNPM_HOME=/pnpm CI=true
RUN corepack enable
WORKDIR /src
# Dependencies first, from the lockfile alone, so this layer is reused until the lockfile changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm fetch --frozen-lockfile
COPY tsconfig.base.json tsconfig.json ./
COPY packages ./packages
COPY services ./services
# The lockfile lists the test workspace package too; its manifest keeps --frozen-lockfile exact.
COPY test/package.json ./test/package.json
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm install --offline --frozen-lockfile \
 && pnpm exec tsc -b services/transport \
 && pnpm --filter @sipnats/transport deploy --prod --legacy /out \
 && rm -rf /out/src /out/test /out/tsconfig*.json

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HTTP_LISTEN=0.0.0.0:9090
WORKDIR /app
COPY --from=build --chown=root:root /out /app
# A numeric non-root user (no entry in /etc/passwd needed); the code is root-owned and read-only.
USER 10001:10001
EXPOSE 5060/udp 5060/tcp 9090/tcp
# SIGTERM drains (see README): node runs as PID 1 and handles the signal itself.
STOPSIGNAL SIGTERM
# Node.js options as SERVICE_START in packages/cli/src/cluster/services.ts (why: there).
ENTRYPOINT ["node", "--single-threaded-gc", "/app/dist/main.js"]
