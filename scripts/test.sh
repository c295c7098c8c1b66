#!/usr/bin/env bash
# The whole suite on the real PostgreSQL and Redis (services.py made sure they answer).
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=config.settings.test
echo "lantern: checking that every model change has its migration"
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null || {
  echo "lantern: a model change has no migration: run manage.py makemigrations" >&2; exit 1; }
mkdir -p var/test-artifacts
set +e
.venv/bin/python -m pytest -p no:cacheprovider --durations=15 "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "lantern: pytest collected no tests" >&2
fi
exit "$status"
