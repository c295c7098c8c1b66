#!/usr/bin/env bash
# sslyze from PyPI, in its own virtualenv under var/tools (its cryptography/pydantic pins stay out of the web app's).
# The runner drops to nobody, so the virtualenv must stay world-readable and executable.
source "$(dirname "$0")/../../scripts/lib.sh"
pip_tool sslyze "sslyze==6.3.1" sslyze
chmod -R a+rX "$TOOLS_DIR/sslyze-venv"
