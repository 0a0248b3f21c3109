#!/usr/bin/env bash
# The Docker stage of CI: builds the image from the repository's Dockerfile, starts the three
# containers of docker-compose.yml on free host ports, and walks the lab in a real headless
# Chromium (examples/walk_lab.rs) — under the default policy (strict), then restarted with
# CORS_PRESET=off. The containers, their network and their ports are removed at the end, also
# when something fails.
#
#   scripts/docker-test.sh
#
# Needs a running Docker engine, but no image registry: the Dockerfile's two base images
# (BUILDER_IMAGE, RUNTIME_IMAGE — what users pull from Docker Hub) are replaced by local builds
# of the same thing, made here with mmdebstrap from Debian's packages:
#   * runtime: a minimal Debian bookworm, like debian:bookworm-slim;
#   * builder: the same plus gcc, libc6-dev and ca-certificates, and this machine's Rust
#     toolchain (rustup's, where `rustc --print sysroot` points), laid out as in rust:1-bookworm.
#     The builder trusts the CA certificates this machine trusts, so that cargo reaches
#     crates.io wherever this machine's cargo does (e.g. behind a TLS-inspecting proxy).
# They are tagged by a hash of their recipe, toolchain and certificates, and reused while that
# stays the same. Everything else — the Dockerfile's build steps, the compose file, the port
# mappings, the healthchecks — is exactly what users run. mmdebstrap, docker-compose and
# Chromium are installed with apt-get when missing. Logs go to target/docker-test/.
# shellcheck disable=SC2317 # functions run through `trap` and by name look unreachable to it
set -euo pipefail
cd "$(dirname "$0")/.."

SCRIPT_START=$(date +%s)
TARGET_DIR=${CARGO_TARGET_DIR:-target}
LOG_DIR="$TARGET_DIR/docker-test"
mkdir -p "$LOG_DIR"
LOG_DIR=$(cd "$LOG_DIR" && pwd)

SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
IMAGE=cors-lab:ci
HEALTH_TIMEOUT=90 # seconds for all three containers to become healthy
WALK_TIMEOUT=300  # seconds for one walk through the lab in Chromium

log() { printf '[docker-test %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "FAIL: $*"
  exit 1
}
elapsed() { echo $(($(date +%s) - $1)); }
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi

# The run is decided by this script alone, not by the caller's environment.
unset CORS_PRESET CORS_ALLOW_ORIGINS CORS_ALLOW_METHODS CORS_ALLOW_HEADERS CORS_EXPOSE_HEADERS \
  CORS_MAX_AGE CORS_ALLOW_CREDENTIALS CORS_DEBUG LAB_SECRET LAB_TRUSTED_ORIGIN \
  LAB_UNTRUSTED_ORIGIN LAB_API_URL LAB_API_ALT_URL COMPOSE_FILE COMPOSE_PROJECT_NAME

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------
apt_updated=""
apt_install() {
  log "installing $* with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$apt_updated" ]; then
    $sudo apt-get update -q >"$LOG_DIR/apt.log" 2>&1 || { tail -20 "$LOG_DIR/apt.log"; die "apt-get update failed"; }
    apt_updated=1
  fi
  $sudo apt-get install -y -q --no-install-recommends "$@" >>"$LOG_DIR/apt.log" 2>&1 \
    || { tail -20 "$LOG_DIR/apt.log"; die "apt-get install $* failed"; }
}

docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info); start it first"

if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
else
  command -v docker-compose >/dev/null 2>&1 || apt_install docker-compose
  COMPOSE=(docker-compose)
fi
log "compose: ${COMPOSE[*]} ($("${COMPOSE[@]}" version --short 2>/dev/null || echo '?')), engine $(docker version -f '{{.Server.Version}}')"

have_chromium() {
  [ -n "${CHROMIUM:-}" ] && [ -x "${CHROMIUM}" ] && return 0
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
    || command -v google-chrome >/dev/null 2>&1
}
have_chromium || apt_install chromium fonts-dejavu-core
command -v mmdebstrap >/dev/null 2>&1 || apt_install mmdebstrap

# ---------------------------------------------------------------------------------------------
# The walker (built first: a compile error should not wait for the image)
# ---------------------------------------------------------------------------------------------
t=$(date +%s)
log "building examples/walk_lab.rs"
cargo build --quiet --example walk_lab
WALKER="$TARGET_DIR/debug/examples/walk_lab"
[ -x "$WALKER" ] || die "$WALKER was not built"
WALKER_SECONDS=$(elapsed "$t")

# ---------------------------------------------------------------------------------------------
# Local base images, cached by tag
# ---------------------------------------------------------------------------------------------
SYSROOT=$(rustc --print sysroot)
TOOLCHAIN=$(basename "$SYSROOT")
RUST_VERSION=$(rustc -V | awk '{print $2}')
if [ ! -x "$SYSROOT/bin/cargo" ] || [ ! -d "$SYSROOT/lib/rustlib" ]; then
  die "rustc's sysroot $SYSROOT is not a rustup toolchain with cargo; the builder image copies one"
fi
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
[ -r "$CA_BUNDLE" ] || die "no CA bundle at $CA_BUNDLE"

# Options shared by both images: minbase, merged /usr without the usrmerge package, and no
# docs, man pages or translations (as debian:bookworm-slim).
MMDEBSTRAP_OPTS=(
  --variant=minbase
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
  --aptopt='Acquire::Languages "none"'
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --format=tar
)
BASE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

make_runtime_image() { # tag
  mmdebstrap "${MMDEBSTRAP_OPTS[@]}" "$SUITE" - "$MIRROR" 2>"$LOG_DIR/runtime-base.log" \
    | docker import --change "ENV PATH=$BASE_PATH" --change 'CMD ["bash"]' \
      --message "CORS Lab CI: $SUITE minbase (mmdebstrap), stand-in for debian:$SUITE-slim" - "$1"
}

make_builder_image() { # tag
  local hook="$LOG_DIR/builder-hook.sh"
  # Runs on this machine with the new root file system as $1: copies the toolchain to where
  # rust:1-bookworm has it (RUSTUP_HOME=/usr/local/rustup, CARGO_HOME=/usr/local/cargo) and
  # puts this machine's CA bundle in place.
  cat >"$hook" <<EOF
#!/bin/sh
set -e
tc="\$1/usr/local/rustup/toolchains/$TOOLCHAIN"
mkdir -p "\$tc/bin" "\$1/usr/local/cargo/bin"
cp -a "$SYSROOT/lib" "\$tc/"
cp -a "$SYSROOT/bin/cargo" "$SYSROOT/bin/rustc" "$SYSROOT/bin/rustdoc" "\$tc/bin/"
for b in cargo rustc rustdoc; do ln -s "../../rustup/toolchains/$TOOLCHAIN/bin/\$b" "\$1/usr/local/cargo/bin/\$b"; done
cp "$CA_BUNDLE" "\$1/etc/ssl/certs/ca-certificates.crt"
EOF
  chmod +x "$hook"
  mmdebstrap "${MMDEBSTRAP_OPTS[@]}" --include=gcc,libc6-dev,ca-certificates \
    --customize-hook="$hook" "$SUITE" - "$MIRROR" 2>"$LOG_DIR/builder-base.log" \
    | docker import \
      --change "ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:$BASE_PATH" \
      --change 'CMD ["bash"]' \
      --message "CORS Lab CI: $SUITE minbase + gcc + Rust $RUST_VERSION, stand-in for rust:1-$SUITE" - "$1"
}

# The tags change with anything that changes the images' content.
recipe=$(
  declare -p MMDEBSTRAP_OPTS SUITE MIRROR BASE_PATH
  declare -f make_runtime_image make_builder_image
)
RECIPE_HASH=$(printf '%s' "$recipe" | sha256sum | cut -c1-12)
BUILDER_HASH=$(printf '%s\n' "$recipe" "$(rustc -vV)" "$TOOLCHAIN" "$(sha256sum <"$CA_BUNDLE")" \
  | sha256sum | cut -c1-12)
RUNTIME_BASE=cors-lab-ci/runtime:$SUITE-$RECIPE_HASH
BUILDER_BASE=cors-lab-ci/builder:$SUITE-rust$RUST_VERSION-$BUILDER_HASH

ensure_base_image() { # tag make-function what
  local t
  if docker image inspect "$1" >/dev/null 2>&1; then
    log "base image $1 is cached"
    return
  fi
  # Older recipes' images of the same name are of no further use.
  docker images --format '{{.Repository}}:{{.Tag}}' "${1%%:*}" | grep -vxF "$1" \
    | xargs -r docker rmi >/dev/null 2>&1 || true
  t=$(date +%s)
  log "making base image $1 ($3) with mmdebstrap from $MIRROR"
  "$2" "$1" >/dev/null || {
    tail -20 "$LOG_DIR"/*-base.log
    die "making $1 failed (logs in $LOG_DIR)"
  }
  log "made $1 in $(elapsed "$t") s"
}

t=$(date +%s)
ensure_base_image "$RUNTIME_BASE" make_runtime_image "runtime: Debian $SUITE minbase"
ensure_base_image "$BUILDER_BASE" make_builder_image "builder: + gcc, Rust $RUST_VERSION"
BASES_SECONDS=$(elapsed "$t")

# ---------------------------------------------------------------------------------------------
# The image, built by compose from the Dockerfile
# ---------------------------------------------------------------------------------------------
PROJECT="corslab-ci-$(date +%s)-$$"
dc() { "${COMPOSE[@]}" -f docker-compose.yml -p "$PROJECT" "$@"; }
export LAB_IMAGE=$IMAGE LAB_BUILDER_IMAGE=$BUILDER_BASE LAB_RUNTIME_IMAGE=$RUNTIME_BASE

t=$(date +%s)
log "building $IMAGE from the Dockerfile (BUILDER_IMAGE=$BUILDER_BASE, RUNTIME_IMAGE=$RUNTIME_BASE)"
dc build api >"$LOG_DIR/build.log" 2>&1 || {
  tail -40 "$LOG_DIR/build.log"
  die "building the image failed (log: $LOG_DIR/build.log)"
}
BUILD_SECONDS=$(elapsed "$t")

# Earlier builds' images (an older cors-lab:ci, older build stages) are left untagged; remove
# those that grew from this script's base images, keeping the newest build stage (the layer
# cache of the next run).
prune_earlier_builds() {
  local bases id p kept_build=""
  bases=" $(docker image inspect -f '{{.Id}}' "$BUILDER_BASE" "$RUNTIME_BASE" | tr '\n' ' ') "
  # Newest first.
  for id in $(docker images -q --no-trunc --filter dangling=true); do
    p=$id
    while p=$(docker image inspect -f '{{.Parent}}' "$p" 2>/dev/null) && [ -n "$p" ]; do
      case "$bases" in *" $p "*) break ;; esac
    done
    [ -n "$p" ] || continue
    if [ "$p" = "$(docker image inspect -f '{{.Id}}' "$BUILDER_BASE")" ] && [ -z "$kept_build" ]; then
      kept_build=$id
      continue
    fi
    docker rmi "$id" >/dev/null 2>&1 || true
  done
}
prune_earlier_builds
IMAGE_BYTES=$(docker image inspect -f '{{.Size}}' "$IMAGE")
BASE_BYTES=$(docker image inspect -f '{{.Size}}' "$RUNTIME_BASE")
log "built $IMAGE in $BUILD_SECONDS s: $((IMAGE_BYTES / 1000000)) MB ($(((IMAGE_BYTES - BASE_BYTES) / 1000000)) MB over the runtime base)"

# ---------------------------------------------------------------------------------------------
# Free host ports, and cleanup whatever happens
# ---------------------------------------------------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
USED_PORTS=" "
pick_port() {
  local p _
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    case "$USED_PORTS" in *" $p "*) continue ;; esac
    if ! port_in_use "$p"; then
      USED_PORTS="$USED_PORTS$p "
      echo "$p"
      return
    fi
  done
  die "found no free port"
}
LAB_TRUSTED_PORT=$(pick_port)
LAB_UNTRUSTED_PORT=$(pick_port)
LAB_API_PORT=$(pick_port)
export LAB_TRUSTED_PORT LAB_UNTRUSTED_PORT LAB_API_PORT
TRUSTED_URL=http://localhost:$LAB_TRUSTED_PORT
UNTRUSTED_URL=http://127.0.0.1:$LAB_UNTRUSTED_PORT
API_URL=http://localhost:$LAB_API_PORT

containers_left() { docker ps -aq --filter "label=com.docker.compose.project=$PROJECT"; }
networks_left() { docker network ls -q --filter "label=com.docker.compose.project=$PROJECT"; }

cleanup() {
  local rc=$? containers networks p
  trap - EXIT
  if [ "$rc" -ne 0 ] && [ -n "$(containers_left)" ]; then
    log "diagnostics of project $PROJECT:"
    dc ps >&2 || true
    dc logs --no-color --tail=60 >&2 || true
  fi
  dc down --remove-orphans >>"$LOG_DIR/compose.log" 2>&1 || true
  containers=$(containers_left)
  networks=$(networks_left)
  if [ -n "$containers$networks" ]; then
    log "left behind after down, removing: $(tr "\n" " " <<<"$containers $networks")"
    xargs -r docker rm -f <<<"$containers" >/dev/null 2>&1 || true
    xargs -r docker network rm <<<"$networks" >/dev/null 2>&1 || true
    rc=1
  fi
  for p in $LAB_TRUSTED_PORT $LAB_UNTRUSTED_PORT $LAB_API_PORT; do
    if port_in_use "$p"; then
      log "port $p is still in use after down"
      rc=1
    fi
  done
  if [ "$rc" -eq 0 ]; then
    log "nothing left behind: no container, network or port of $PROJECT"
  else
    log "docker stage FAILED (logs in $LOG_DIR)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Up, healthy, walk
# ---------------------------------------------------------------------------------------------
wait_healthy() { # what
  local deadline=$(($(date +%s) + HEALTH_TIMEOUT)) ids states line healthy
  while :; do
    ids=$(dc ps -q 2>/dev/null || true)
    healthy=0
    states=""
    for id in $ids; do
      line=$(docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id")
      states="$states ${line#/}"
      case "$line" in
        *" running healthy") healthy=$((healthy + 1)) ;;
        *" exited"* | *" dead"* | *" unhealthy") die "a container failed ($1):$states" ;;
      esac
    done
    if [ "$healthy" -eq 3 ]; then
      log "all three healthy ($1):$states"
      return
    fi
    [ "$(date +%s)" -lt "$deadline" ] || die "not all healthy within ${HEALTH_TIMEOUT} s ($1):$states"
    sleep 1
  done
}

walk() { # expected preset
  log "walking the lab in Chromium, expecting $1"
  timeout "$WALK_TIMEOUT" "$WALKER" "$TRUSTED_URL" "$UNTRUSTED_URL" "$API_URL" --expect "$1" \
    || die "the walk under $1 disagrees (see above)"
}

# Each container's PID 1 must be the server itself (exec-form command, no shell, no init), or
# `docker stop`'s SIGTERM would not reach it. Read from the host: the image needs no tools.
check_pid1() {
  local id pid comm
  for id in $(dc ps -q); do
    pid=$(docker inspect -f '{{.State.Pid}}' "$id")
    if ! comm=$(cat "/proc/$pid/comm" 2>/dev/null); then
      # An engine in another PID namespace (remote, rootless, a VM): ask it for the process list.
      comm=$(docker top "$id" -o pid,comm | awk -v p="$pid" '$1 == p {print $2}')
    fi
    case "$comm" in
      api-server | origin-server) ;;
      *) die "PID 1 of $(docker inspect -f '{{.Name}}' "$id") is $comm, not the server" ;;
    esac
  done
  log "PID 1 of each container is its server"
}

log "project $PROJECT: trusted $TRUSTED_URL, untrusted $UNTRUSTED_URL, API $API_URL"
t=$(date +%s)
dc up -d --no-build >>"$LOG_DIR/compose.log" 2>&1 || { tail -20 "$LOG_DIR/compose.log"; die "compose up failed"; }
wait_healthy "default policy"
UP_SECONDS=$(elapsed "$t")
check_pid1
walk strict

log "restarting with CORS_PRESET=off"
t=$(date +%s)
api_before=$(dc ps -q api)
CORS_PRESET=off dc up -d --no-build >>"$LOG_DIR/compose.log" 2>&1 || { tail -20 "$LOG_DIR/compose.log"; die "compose up (off) failed"; }
[ "$(dc ps -q api)" != "$api_before" ] || die "the api container was not recreated for CORS_PRESET=off"
wait_healthy "CORS_PRESET=off"
RESTART_SECONDS=$(elapsed "$t")
walk off

# ---------------------------------------------------------------------------------------------
# A clean stop: SIGTERM reaches each server (PID 1), which exits 0 well within the grace period
# ---------------------------------------------------------------------------------------------
ids=$(dc ps -q)
since=$(date +%s.%N)
start_ns=$(date +%s%N)
dc stop >>"$LOG_DIR/compose.log" 2>&1
STOP_MS=$((($(date +%s%N) - start_ns) / 1000000))
until=$(date +%s.%N)
for id in $ids; do
  name=$(docker inspect -f '{{.Name}}' "$id")
  name=${name#/}
  state=$(docker inspect -f 'exit={{.State.ExitCode}} oom={{.State.OOMKilled}}' "$id")
  [ "$state" = "exit=0 oom=false" ] || die "not a clean stop of $name: $state"
  # The engine's own record: when it sent which signal, and when the process ended.
  events=$(docker events --since "$since" --until "$until" --filter "container=$id" \
    --format '{{.Action}} {{.TimeNano}} {{index .Actor.Attributes "signal"}}')
  term_ns=$(awk '$1 == "kill" && $3 == "15" {print $2; exit}' <<<"$events")
  die_ns=$(awk '$1 == "die" {print $2; exit}' <<<"$events")
  if [ -z "$term_ns" ] || [ -z "$die_ns" ]; then
    die "no SIGTERM/exit events for $name: $events"
  fi
  if awk '$1 == "kill" && $3 == "9" {found = 1} END {exit !found}' <<<"$events"; then
    die "$name was killed (SIGKILL) after the grace period"
  fi
  ms=$(((die_ns - term_ns) / 1000000))
  [ "$ms" -lt 3000 ] || die "$name took $ms ms to exit after SIGTERM"
  log "stopped $name: SIGTERM, exit 0 after $ms ms"
done
log "clean stop of all three (compose stop: $STOP_MS ms)"

log "summary: walker build ${WALKER_SECONDS} s, base images ${BASES_SECONDS} s, image build ${BUILD_SECONDS} s," \
  "image $((IMAGE_BYTES / 1000000)) MB, up+healthy ${UP_SECONDS} s, restart ${RESTART_SECONDS} s," \
  "stop ${STOP_MS} ms, total $(elapsed "$SCRIPT_START") s"
# `exit` runs cleanup: compose down, then the check that nothing is left behind.
exit 0
