#!/usr/bin/env bash
# Sublist3r 1.0 from PyPI (the last release, 2020; pure Python, needs requests and dnspython), in its own
# virtualenv so its unpinned dependencies never meet the web app's.
source "$(dirname "$0")/../../scripts/lib.sh"
pip_tool sublist3r "sublist3r==1.0" sublist3r
