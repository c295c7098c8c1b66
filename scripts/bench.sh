#!/usr/bin/env bash
# Run every benchmark in bench/ (loopback only, each bounded in time) and write one report with the machine
# it ran on: var/bench/latest.md (and print it). A failing benchmark is reported, the others still run.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/bench
out=var/bench/latest.md
{
  echo "# Lantern benchmarks"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -sr)," \
       "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- command: make bench"
  echo
  for bench in bench/bench_*.py; do
    echo "## $(basename "$bench" .py)"
    echo
    echo '```'
    start=$(date +%s)
    errors=$(mktemp)
    if ! DJANGO_SETTINGS_MODULE=config.settings.local timeout 1200 .venv/bin/python "$bench" 2>"$errors" \
         | grep -v '^$'; then
      echo "FAILED: $bench; the end of what it printed on stderr:"
      grep -vE "SecurityWarning|superuser|--uid|User information|_warn_or_raise|^$" "$errors" | tail -5
    fi
    rm -f "$errors"
    echo "(wall time $(( $(date +%s) - start )) s)"
    echo '```'
    echo
  done
} | tee "$out"
echo "lantern: report written to $out"
