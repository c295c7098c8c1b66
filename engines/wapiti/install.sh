#!/usr/bin/env bash
# wapiti from PyPI in its own virtualenv (var/tools/wapiti-venv): its pins (packaging, cryptography, asgiref
# via mitmproxy) clash with Django and Celery, see shared/ENGINES.md. 3.2.3 is the newest for Python 3.11.
source "$(dirname "$0")/../../scripts/lib.sh"
pip_tool wapiti "wapiti3==3.2.3" wapiti
