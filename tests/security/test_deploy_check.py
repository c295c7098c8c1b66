"""Production settings pass `manage.py check --deploy` with no warning at all (security settings, and an
OpenAPI schema that documents every view), and refuse to start without a secret key or allowed hosts."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("LANTERN_")}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**base, "DJANGO_SETTINGS_MODULE": "config.settings.production", **env})


def test_check_deploy_reports_no_issue():
    result = manage("check", "--deploy", LANTERN_SECRET_KEY=secrets.token_urlsafe(64),
                    LANTERN_ALLOWED_HOSTS="lantern.example.org")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stdout + result.stderr


def test_production_refuses_to_start_without_secret_or_hosts():
    no_secret = manage("check", LANTERN_ALLOWED_HOSTS="lantern.example.org")
    assert no_secret.returncode != 0 and "LANTERN_SECRET_KEY or LANTERN_SECRET_KEY_FILE must be set" in no_secret.stderr
    no_hosts = manage("check", LANTERN_SECRET_KEY=secrets.token_urlsafe(64))
    assert no_hosts.returncode != 0 and "LANTERN_ALLOWED_HOSTS must list" in no_hosts.stderr
