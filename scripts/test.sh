#!/usr/bin/env bash
# The lab's test command: installs what the tests need when it is missing, then runs them all.
#
#   scripts/test.sh              # every test of the workspace, browser tests included
#   scripts/test.sh -p cors-policy   # extra arguments go to `cargo test`
#
# The browser tests drive a real headless Chromium (Debian's `chromium` package). When no
# Chromium is found this script installs it with apt-get (as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

have_chromium() {
  [ -n "${CHROMIUM:-}" ] && [ -x "${CHROMIUM}" ] && return 0
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
    || command -v google-chrome >/dev/null 2>&1
}

if ! have_chromium; then
  echo "scripts/test.sh: Chromium is missing; installing Debian's chromium package" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
fi

cargo test --workspace "$@"
