#!/usr/bin/env bash
# wapiti from PyPI in its own virtualenv (var/tools/wapiti-venv): its pins (packaging, cryptography, asgiref
# via mitmproxy) clash with Django and Celery, see shared/ENGINES.md. 3.2.3 is the newest for Python 3.11.
# The runner starts wapiti as nobody, so the venv is built on Debian's python3.11: a venv on an interpreter
# under /root (pyenv) cannot be executed by nobody ("Permission denied"). A venv built on another
# interpreter is rebuilt.
source "$(dirname "$0")/../../scripts/lib.sh"
apt_install python3.11 python3.11-venv
venv="$TOOLS_DIR/wapiti-venv"
if [ -e "$venv/bin/python" ] && [ "$(readlink -f "$venv/bin/python")" != "/usr/bin/python3.11" ]; then
  echo "lantern: rebuilding $venv on /usr/bin/python3.11 (the tool runs as nobody)"
  rm -rf "$venv"
fi
LANTERN_PYTHON=/usr/bin/python3.11 pip_tool wapiti "wapiti3==3.2.3" wapiti
