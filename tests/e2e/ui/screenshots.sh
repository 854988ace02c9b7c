#!/usr/bin/env bash
# Refreshes the screenshots of the web UI in docs/ui/ (listed in docs/ui/README.md): starts
# `jobscope serve` on a fresh SQLite database, seeds it as the browser tests do, and captures
# every page with headless chromium at desktop width, plus the settings page at 360px.
#
#   bash tests/e2e/ui/screenshots.sh [OUTPUT_DIR]     (default: <repo>/docs/ui)
#
# Needs what run.sh needs (see lib.sh); build the binary first: cargo build -p jobscope.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
OUT=$(mkdir -p "${1:-$REPO/docs/ui}" && cd "${1:-$REPO/docs/ui}" && pwd)
export SCREENSHOT_DIR=$OUT

ui_check_tools
ui_install_chromium
ui_install_node_modules
export JOBSCOPE_E2E_BACKEND=sqlite
ui_start_server

cd "$HERE"
node screenshots.mjs
echo "screenshots written to $OUT"
