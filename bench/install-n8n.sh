#!/usr/bin/env bash
# Install the benchmark's peer systems when they are missing: n8n (pinned in bench/n8n/package.json)
# into bench/.n8n/, and wrk from Debian's packages. Safe to run again: each step is skipped when done.
#
# n8n 2.8.4 is the newest n8n that runs on Node 20 (2.10 and later need Node 22). The xlsx override
# in package.json keeps npm inside the npm registry: n8n-nodes-base otherwise fetches xlsx from a
# tarball on another host. Native modules are built against the system's Node headers.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TARGET="$BENCH_DIR/.n8n"

if ! command -v wrk >/dev/null; then
  echo "Installing wrk from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

if [[ ! -x "$TARGET/node_modules/.bin/n8n" ]]; then
  echo "Installing n8n into $TARGET (about 5 minutes and 2.4 GB)"
  mkdir -p "$TARGET"
  cp "$BENCH_DIR/n8n/package.json" "$TARGET/package.json"
  (
    cd "$TARGET"
    SCARF_ANALYTICS=false PUPPETEER_SKIP_DOWNLOAD=1 npm_config_nodedir=/usr \
      npm install --omit=dev --no-audit --no-fund --build-from-source --loglevel=error
  )
fi
