# Shared by scripts/*.sh and engines/*/install.sh. Idempotent install helpers; no prompts (CI has no stdin).
# shellcheck shell=bash
set -euo pipefail
LANTERN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$LANTERN_ROOT/var/tools"
mkdir -p "$TOOLS_DIR/bin"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"
  else return 1
  fi
}

# apt_install PKG...: install the Debian packages that are missing (apt-get update at most once per run).
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "lantern: cannot install ${missing[*]}: this system has no apt-get; install them by hand" >&2
    return 1
  fi
  echo "lantern: installing Debian packages: ${missing[*]}"
  if [ -z "${LANTERN_APT_UPDATED:-}" ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || {
      echo "lantern: apt-get update needs root (or passwordless sudo); install ${missing[*]} by hand" >&2
      return 1; }
    LANTERN_APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null || { echo "lantern: apt-get install ${missing[*]} failed" >&2; return 1; }
}

# pip_tool NAME SPEC BINARY...: install SPEC into its own virtualenv var/tools/NAME-venv (so its pins never
# meet the web app's) and link each BINARY into var/tools/bin. Skips the work when SPEC is already there.
# The venv is built on Debian's /usr/bin/python3.11: tools run as nobody, who cannot execute an interpreter
# under a private home (pyenv in /root); a venv made on another interpreter is rebuilt.
TOOL_PYTHON=/usr/bin/python3.11
pip_tool() {
  local name="$1" spec="$2"; shift 2
  local venv="$TOOLS_DIR/$name-venv" stamp="$TOOLS_DIR/$name-venv/.lantern-spec"
  [ -x "$TOOL_PYTHON" ] && "$TOOL_PYTHON" -c 'import ensurepip' 2>/dev/null || apt_install python3.11 python3.11-venv
  if [ -e "$venv/bin/python" ] && [ "$(readlink -f "$venv/bin/python")" != "$(readlink -f "$TOOL_PYTHON")" ]; then
    echo "lantern: rebuilding $venv on $TOOL_PYTHON (tools run as nobody)"
    rm -rf "$venv"
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$spec" ]; then
    echo "lantern: installing $spec into $venv"
    [ -x "$venv/bin/python" ] || "$TOOL_PYTHON" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check $spec
    echo "$spec" > "$stamp"
  fi
  local binary
  for binary in "$@"; do ln -sf "$venv/bin/$binary" "$TOOLS_DIR/bin/$binary"; done
}
