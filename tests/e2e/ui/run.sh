#!/usr/bin/env bash
# Browser tests of the web UI (issue 8): playwright-core driving Debian's chromium, headless,
# against a real `jobscope serve` process, run by Node's built-in test runner.
#
#   bash tests/e2e/ui/run.sh [extra node --test args...]
#
# Covers: sign in, toggle the scope, add and remove a project and a group, edit policies,
# autopopulate from the authentication log, download the CSV, sign out, and a developer
# trying to change the scope shown GitLab's 403. See lib.sh for what is installed when
# missing and for the environment variables.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

ui_check_tools
ui_install_chromium
ui_install_node_modules
ui_start_server

cd "$HERE"
node --test --test-reporter=spec "$@" ui.test.mjs
