#!/usr/bin/env bash
# The lab's test command: installs what the tests need when it is missing, then runs them all.
#
#   scripts/test.sh              # every test of the workspace, browser tests included
#   scripts/test.sh -p cors-policy   # extra arguments go to `cargo test`
#
# The browser tests drive a real headless Chromium (Debian's `chromium` package). When no
# Chromium (or no curl) is found this script installs it with apt-get (as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

have_chromium() {
  [ -n "${CHROMIUM:-}" ] && [ -x "${CHROMIUM}" ] && return 0
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
    || command -v google-chrome >/dev/null 2>&1
}

# `cors-check`'s tests judge what real curl printed (Debian's `curl` package).
missing=()
have_chromium || missing+=(chromium fonts-dejavu-core)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "scripts/test.sh: installing what the tests need from Debian: ${missing[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cargo test --workspace "$@"
