#!/usr/bin/env bash
# Installs what sipnats needs on a Debian machine with Node.js 20, idempotently:
# Debian packages (only those missing), the pinned pnpm, the workspace's npm packages, and a build.
# Downloads nothing but Debian and npm packages.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  log "Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))"; exit 1
fi

# Debian packages: nats-server, SIPp (sip-tester), the NATS C client, a C tool chain, valgrind for the C tests,
# sngrep (a HEP collector for the `sipnats hep` tests).
# dnsmasq-base (the dnsmasq binary without a system service) for the RFC 3263 resolver tests.
apt_packages=(nats-server sip-tester libnats-dev build-essential pkg-config valgrind ca-certificates openssl dnsmasq-base sngrep)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  log "installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# pnpm, pinned by package.json "packageManager". corepack's signature check fails on some machines,
# so the pinned version is installed with npm.
pnpm_version=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [ "$(pnpm --version 2>/dev/null || true)" != "$pnpm_version" ]; then
  log "installing pnpm@$pnpm_version"
  npm install -g --no-fund --no-audit "pnpm@$pnpm_version" >/dev/null
fi

if [ -f pnpm-lock.yaml ]; then
  pnpm install --frozen-lockfile --reporter=silent
else
  pnpm install --reporter=silent
fi
pnpm run --silent build
