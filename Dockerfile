# syntax=docker/dockerfile:1
# Runway's production image: `runway api`, `runway worker`, `runway all`, the
# admin CLI, and (run as root with another entrypoint) the edge Nginx of
# docker-compose.prod.yml. Build: docker build -t runway:latest .
ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------- build
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV PRISMA_HIDE_UPDATE_MESSAGE=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json ./
# Dependencies' install scripts stay off, as in development (npm 11 default):
# everything Runway uses works without them (bcrypt ships prebuilt binaries,
# Prisma runs on its WebAssembly query compiler). `npm ci` rejects this lock
# under npm 11 (platform-specific optional packages); `npm install` honours it.
RUN npm install --no-audit --no-fund --ignore-scripts
COPY tsconfig.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts/prisma-generate.mjs ./scripts/
COPY deploy/prune-runtime-deps.mjs ./deploy/
COPY src ./src
# prisma generate (scripts/prisma-generate.mjs) + tsc -> dist/; then production
# dependencies only, without the peer dependencies npm adds for @prisma/client
# (Prisma CLI, Studio, TypeScript) that Runway never loads.
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && node deploy/prune-runtime-deps.mjs .

# ---------------------------------------------------------------- runtime
FROM ${NODE_IMAGE} AS runtime
# nginx-light: the worker's `nginx -t` and the edge service; git + ssh: Git
# deployments; no compilers, no dev dependencies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx-light git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && rm -f /etc/nginx/sites-enabled/default
# A fixed uid/gid without any extra group: the Docker socket's group is added
# at run time (compose `group_add: [DOCKER_GID]`), and only to the services
# that talk to Docker.
RUN groupadd --system --gid 10001 runway \
 && useradd --system --uid 10001 --gid runway --home-dir /home/runway --create-home --shell /usr/sbin/nologin runway \
 && mkdir -p /var/lib/runway/certs /etc/nginx/runway /var/www/runway-acme /etc/runway-edge \
 && chown -R runway:runway /var/lib/runway /etc/nginx/runway /var/www/runway-acme
WORKDIR /app
ENV NODE_ENV=production \
    RUNWAY_STATE_DIR=/var/lib/runway \
    NGINX_SITES_DIR=/etc/nginx/runway \
    NGINX_CERTS_DIR=/var/lib/runway/certs \
    NGINX_ACME_WEBROOT=/var/www/runway-acme \
    HOST=0.0.0.0 \
    PORT=3000
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY prisma/migrations ./prisma/migrations
COPY nginx-templates ./nginx-templates
COPY deploy/edge/nginx.conf deploy/edge/api.conf /etc/runway-edge/
RUN printf '#!/bin/sh\nexec node /app/dist/main.js "$@"\n' >/usr/local/bin/runway \
 && printf '#!/bin/sh\nexec node /app/dist/ops/edge-nginx.js "$@"\n' >/usr/local/bin/runway-edge-nginx \
 && chmod 0755 /usr/local/bin/runway /usr/local/bin/runway-edge-nginx

USER runway:runway
EXPOSE 3000 9464
# API processes answer /health on PORT; worker-only processes on METRICS_PORT
# (compose sets HEALTHCHECK_PORT=9464 for them). Node's fetch: no curl needed.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HEALTHCHECK_PORT||process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["runway"]
CMD ["all"]
