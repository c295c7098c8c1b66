#!/usr/bin/env bash
# sqlmap from Debian (a Python script on the system interpreter; no dependency meets the web app's venv).
source "$(dirname "$0")/../../scripts/lib.sh"
command -v sqlmap >/dev/null 2>&1 || apt_install sqlmap
