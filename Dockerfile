# syntax=docker/dockerfile:1
#
# Image of the processor. Three stages so that the runtime layer holds only the compiled
# JavaScript, the Avro schemas and production dependencies: no TypeScript, tsx, vitest or
# npm cache.
#
#   docker build -t email-flow-validator .
#   docker run --rm -e KAFKA_BROKERS=broker:9092 email-flow-validator          # run
#   docker run --rm -e KAFKA_BROKERS=broker:9092 email-flow-validator topics --partitions 6
#
# Current Node LTS on Debian slim; override with --build-arg NODE_IMAGE=node:24-slim@sha256:…
# to pin a digest in a release pipeline.
ARG NODE_IMAGE=node:24-slim

# ---- build: all dependencies, compile src/ to dist/ -------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY schemas ./schemas
RUN npm run build

# ---- prod-deps: production dependencies only ---------------------------------------------
# Installed apart from the build stage so that no devDependency can leak into the image
# through a hoisted node_modules.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

# ---- runtime ----------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# The C allocator's settings are bin/node-flags.mjs's MALLOC_ENV (freed buffers go back to the
# system): see docs/ARCHITECTURE.md, "Memory budget".
ENV NODE_ENV=production \
    HTTP_PORT=9464 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    MALLOC_TRIM_THRESHOLD_=131072
WORKDIR /app
# package.json is needed at run time: "type": "module" makes dist/*.js ESM, and the
# processor stamps its version from it on every result.
COPY --chown=root:root package.json ./
COPY --chown=root:root --from=prod-deps /app/node_modules ./node_modules
COPY --chown=root:root --from=build /app/dist ./dist
COPY --chown=root:root bin ./bin
COPY --chown=root:root schemas ./schemas
# Files stay owned by root and read-only to the process; it writes nothing, so the chart
# can mount the root filesystem read-only. A numeric UID (the base image's `node` user)
# lets Kubernetes verify runAsNonRoot without resolving /etc/passwd.
USER 1000:1000
EXPOSE 9464
# The processor drains in-flight work on SIGTERM (stop fetching, publish, commit, exit 0).
# Node runs as PID 1 here without a shell in between, so the signal reaches it directly and
# its own handler replaces the kernel's PID 1 default of ignoring SIGTERM.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# bin/ runs dist/cli.js when it exists (always, here), so tsx is never needed at run time.
# The V8 flags are bin/node-flags.mjs's (a 16 MB young generation, an old generation allowed
# to grow to twice its live size): they bound the memory whatever the host or pod size; see
# docs/ARCHITECTURE.md, "Memory budget". NODE_OPTIONS may add --max-old-space-size.
ENTRYPOINT ["node", "--max-semi-space-size=8", "--heap-growing-percent=100", "bin/email-flow-validator.mjs"]
CMD ["run"]
