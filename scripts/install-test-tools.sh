#!/usr/bin/env bash
# What only the test suite needs on top of `make up`: Debian's Chromium for the console's browser tests
# (driven by Playwright's Python package with executable_path=/usr/bin/chromium; no browser download), a
# Redis server and PostgreSQL binaries the fault drills start privately, strace for trivy's offline proof.
source "$(dirname "$0")/lib.sh"
apt_install chromium redis-server postgresql strace
