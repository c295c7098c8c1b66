#!/usr/bin/env bash
# sslyze from PyPI, in its own virtualenv under var/tools (its cryptography/pydantic/nassl pins stay out of the
# web app's). The runner drops to nobody (uid 65534), so the virtualenv's interpreter and standard library must be
# readable by nobody: a pyenv Python under /root is not, so the system's python3.11 is preferred, and a virtualenv
# that nobody cannot run is rebuilt. (The check goes through env: setpriv itself still holds root's capabilities
# when it execs, so a direct exec would pass where the runner's prlimit -> sslyze exec fails.)
source "$(dirname "$0")/../../scripts/lib.sh"
if [ -z "${LANTERN_PYTHON:-}" ] && [ -x /usr/bin/python3.11 ]; then
  export LANTERN_PYTHON=/usr/bin/python3.11
fi
venv="$TOOLS_DIR/sslyze-venv"
if [ -x "$venv/bin/python" ] && [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 \
    && ! setpriv --reuid=65534 --regid=65534 --clear-groups -- env "$venv/bin/python" -c '' 2>/dev/null; then
  echo "lantern: $venv cannot be run by nobody; rebuilding it with ${LANTERN_PYTHON:-python3.11}"
  rm -rf "$venv"
fi
pip_tool sslyze "sslyze==6.3.1" sslyze
chmod -R a+rX "$venv"
