#!/usr/bin/env bash
# Installs what the real-editor end-to-end test of the VS Code extension needs, from the package
# registries only (Debian, npm). Idempotent: every step is skipped when its result is present.
#   - Debian: chromium (the browser playwright-core drives), ripgrep (seeds @vscode/ripgrep's
#     download cache), libkrb5-dev (code-server's native `kerberos` module).
#   - npm: code-server 4.100.3 (VS Code 1.100.3; the newest that installs on Node 20) into
#     .tools/code-server/, outside the repository's own npm tree.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CS_VERSION="${CODE_SERVER_VERSION:-4.100.3}"
CS_PREFIX="${CODE_SERVER_PREFIX:-$ROOT/.tools/code-server}"
CS_STAMP="$CS_PREFIX/.installed-$CS_VERSION"

log() { printf '[e2e-deps] %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
if [ ! -f "$CS_STAMP" ] && ! dpkg -s libkrb5-dev >/dev/null 2>&1; then missing+=(libkrb5-dev); fi
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]} (log: $ROOT/.tools/apt.log)"
  mkdir -p "$ROOT/.tools"
  { $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"; } \
    > "$ROOT/.tools/apt.log" 2>&1 || { tail -30 "$ROOT/.tools/apt.log"; log "apt-get failed"; exit 1; }
else
  log "chromium, ripgrep and libkrb5-dev: present"
fi

if [ -f "$CS_STAMP" ] && [ -x "$CS_PREFIX/node_modules/.bin/code-server" ]; then
  log "code-server $CS_VERSION: present in $CS_PREFIX"
  exit 0
fi

log "installing code-server $CS_VERSION into $CS_PREFIX (about 100 s)"
start=$(date +%s)
# @vscode/ripgrep 1.15.11 downloads a binary from a host that cannot be reached; its postinstall
# reuses a cached tarball, so seed that cache from Debian's ripgrep.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/vscode-ripgrep-cache-1.15.11" "$tmp/rg"
cp "$(command -v rg)" "$tmp/rg/rg"
tar czf "$tmp/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$tmp/rg" rg
mkdir -p "$CS_PREFIX"
[ -f "$CS_PREFIX/package.json" ] || echo '{"name":"memlens-e2e-tools","private":true}' > "$CS_PREFIX/package.json"
# npm_config_yes: node-pty runs `npx node-gyp`, which would otherwise wait for a prompt.
TMPDIR="$tmp" npm_config_yes=true npm install --prefix "$CS_PREFIX" --no-audit --no-fund \
  --unsafe-perm --foreground-scripts "code-server@$CS_VERSION" > "$CS_PREFIX/install.log" 2>&1 || {
  tail -50 "$CS_PREFIX/install.log"; log "code-server install failed"; exit 1; }
"$CS_PREFIX/node_modules/.bin/code-server" --version >/dev/null
touch "$CS_STAMP"
log "code-server $CS_VERSION installed in $(( $(date +%s) - start )) s"
