#!/usr/bin/env bash
# Runway's one-command set-up (README, first command). Run as root on Debian 12.
#
# Installs from Debian's packages and starts whatever is missing: PostgreSQL,
# Redis, a Docker engine in swarm mode, Nginx, Pebble (the test ACME server),
# Chromium (page tests); creates the database; builds the local base image the
# tests need (no registry here); installs npm dependencies; generates the Prisma
# client; builds Runway; applies migrations; starts Runway unless
# RUNWAY_SETUP_NO_START=1. Idempotent: every step checks before it acts, so a
# second run changes nothing and takes seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${RUNWAY_STATE_DIR:-/var/lib/runway}"
LOG_DIR="${RUNWAY_LOG_DIR:-/var/log/runway}"
DB_NAME="${RUNWAY_DB_NAME:-runway}"
export DEBIAN_FRONTEND=noninteractive

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs Debian packages and starts services)"
mkdir -p "$STATE_DIR" "$LOG_DIR"

# ---------------------------------------------------------------- packages
need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for pkg in postgresql redis-server docker.io docker-compose nginx-light pebble chromium busybox-static git openssl curl ca-certificates; do
  have_pkg "$pkg" || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  log "installing: ${need[*]}"
  apt-get update -qq
  # Debian's service scripts cannot run here (no systemd); policy-rc.d keeps
  # dpkg from trying, and each service is started below as a plain process.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${need[@]}" >"$LOG_DIR/apt.log" 2>&1 \
    || { tail -20 "$LOG_DIR/apt.log" >&2; die "apt-get install failed (log: $LOG_DIR/apt.log)"; }
  rm -f /usr/sbin/policy-rc.d
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() { # wait_for <what> <seconds> <command...>
  local what=$1 secs=$2; shift 2
  for _ in $(seq 1 $((secs * 5))); do "$@" && return 0; sleep 0.2; done
  die "$what did not come up within ${secs}s"
}

# ---------------------------------------------------------------- PostgreSQL
if ! port_open 5432; then
  log "starting PostgreSQL"
  cluster_version="$(ls /etc/postgresql | sort -V | tail -1)"
  pg_ctlcluster --skip-systemctl-redirect "$cluster_version" main start
  wait_for PostgreSQL 30 port_open 5432
fi
if ! runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1; then
  log "creating database $DB_NAME"
  runuser -u postgres -- createdb "$DB_NAME"
fi

# ---------------------------------------------------------------- Redis
if ! port_open 6379; then
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --dir /var/lib/redis \
    --logfile /var/log/redis/runway.log
  wait_for Redis 15 port_open 6379
fi

# ---------------------------------------------------------------- Docker + swarm
docker_up() { docker info >/dev/null 2>&1; }
# Engine API 1.41 ignores a service's no-new-privileges flag (it arrives in
# 1.44), so the daemon enforces it for every container instead.
if [ ! -f /etc/docker/daemon.json ]; then
  mkdir -p /etc/docker
  printf '{\n  "no-new-privileges": true\n}\n' >/etc/docker/daemon.json
  if docker_up; then
    log "dockerd must be restarted to enforce no-new-privileges: stop it and run set-up again"
  fi
fi
if ! docker_up; then
  log "starting dockerd"
  setsid dockerd >"$LOG_DIR/dockerd.log" 2>&1 < /dev/null &
  wait_for "Docker engine" 60 docker_up
fi
if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != "active" ]; then
  log "initialising a one-node swarm"
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
fi

# Base image for tests and for local Git builds: no registry can be reached, so
# build a busybox root filesystem from Debian's static binary.
if ! docker image inspect local/busybox:1 >/dev/null 2>&1; then
  log "building local/busybox:1"
  rootfs="$(mktemp -d)"
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/www"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in sh ash echo sleep cat ls httpd nc env printf date hostname id mkdir rm touch true false grep head tail wc; do
    ln -s busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  tar -C "$rootfs" -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - local/busybox:1 >/dev/null
  rm -rf "$rootfs"
fi

# ---------------------------------------------------------------- Nginx
# Runway writes one file per site into this directory and reloads Nginx.
NGINX_SITES_DIR="${NGINX_SITES_DIR:-/etc/nginx/runway}"
mkdir -p "$NGINX_SITES_DIR" /var/www/runway-acme
if [ ! -f /etc/nginx/conf.d/runway.conf ]; then
  printf '# Managed by Runway: per-site files live in %s\ninclude %s/*.conf;\n' \
    "$NGINX_SITES_DIR" "$NGINX_SITES_DIR" >/etc/nginx/conf.d/runway.conf
fi
if ! pgrep -x nginx >/dev/null; then
  log "starting Nginx"
  nginx -t -q && nginx
fi

# ---------------------------------------------------------------- Pebble CA
# Debian's pebble has no certificate for its own listener: make a small CA and
# a listener certificate once. The test suite starts its own Pebble from these.
PEBBLE_DIR="$STATE_DIR/pebble"
if [ ! -f "$PEBBLE_DIR/cert.pem" ]; then
  log "creating Pebble's listener certificate"
  mkdir -p "$PEBBLE_DIR"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj '/CN=Runway test ACME CA' -keyout "$PEBBLE_DIR/ca.key" -out "$PEBBLE_DIR/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=localhost' \
    -keyout "$PEBBLE_DIR/key.pem" -out "$PEBBLE_DIR/cert.csr" 2>/dev/null
  openssl x509 -req -in "$PEBBLE_DIR/cert.csr" -CA "$PEBBLE_DIR/ca.pem" -CAkey "$PEBBLE_DIR/ca.key" \
    -CAcreateserial -days 3650 -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1') \
    -out "$PEBBLE_DIR/cert.pem" 2>/dev/null
  rm -f "$PEBBLE_DIR/cert.csr"
fi

# ---------------------------------------------------------------- Runway itself
cd "$ROOT"
if [ ! -f .env ]; then
  log "writing .env (edit it to add bot tokens, PUBLIC_URL and ACME settings)"
  cat >.env <<EOF
DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$DB_NAME
REDIS_URL=redis://127.0.0.1:6379
PORT=3000
PUBLIC_URL=http://127.0.0.1:3000
NGINX_SITES_DIR=$NGINX_SITES_DIR
RUNWAY_STATE_DIR=$STATE_DIR
EOF
fi

lock_hash="$(sha256sum package-lock.json | cut -c1-64)"
if [ ! -d node_modules ] || [ "$(cat node_modules/.runway-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  log "installing npm dependencies"
  # `npm ci` rejects this lock file under npm 11 (it drops other platforms'
  # optional msgpackr-extract packages and then calls the lock out of sync);
  # `npm install` honours the same lock.
  npm install --no-audit --no-fund --loglevel=error
  echo "$lock_hash" >node_modules/.runway-lock-hash
fi

src_hash="$( (cat package-lock.json tsconfig.json prisma/schema.prisma; find src scripts -type f -not -path 'src/generated/*' -print0 | sort -z | xargs -0 cat) | sha256sum | cut -c1-64)"
if [ ! -f dist/main.js ] || [ "$(cat dist/.runway-src-hash 2>/dev/null)" != "$src_hash" ]; then
  log "generating the Prisma client and building"
  npm run --silent build
  echo "$src_hash" >dist/.runway-src-hash
fi

log "applying migrations"
set -a; . ./.env; set +a
node dist/main.js migrate

if [ "${RUNWAY_SETUP_NO_START:-0}" != "1" ]; then
  pidfile="$STATE_DIR/runway.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "Runway already running (pid $(cat "$pidfile"))"
  else
    log "starting Runway (log: $LOG_DIR/runway.log)"
    setsid node dist/main.js all >>"$LOG_DIR/runway.log" 2>&1 < /dev/null &
    echo $! >"$pidfile"
    wait_for "Runway on port ${PORT:-3000}" 60 curl -fs -o /dev/null "http://127.0.0.1:${PORT:-3000}/health"
  fi
  log "Runway is up: http://127.0.0.1:${PORT:-3000}/ (docs at /api/docs)"
fi
log "done"
