#!/usr/bin/env bash
# Sets up whatever is missing for Strongroom on Debian bookworm with Node 20:
# Debian's softhsm2 (the HSM for the demo and the tests), rsyslog and
# liblognorm-utils (the real SIEM of test/sinks/rsyslog-siem.test.ts: rsyslog
# ships the mmnormalize and mmpstrucdata modules, liblognorm-utils the
# lognormalizer to try a rulebase by hand), the npm packages from
# package-lock.json, and the compiled dist/. Safe to run again: each step is
# skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = 'install ok installed' ]; }
command -v softhsm2-util >/dev/null 2>&1 || need_apt+=(softhsm2)
# The test runs its own rsyslogd (own config, folders and loopback ports); where
# systemd runs, installing the package also enables the system's syslog service.
installed rsyslog || need_apt+=(rsyslog)
installed liblognorm-utils || need_apt+=(liblognorm-utils)
if [ "${STRONGROOM_SETUP_PYKMIP:-0}" = 1 ] && ! /usr/bin/python3 -c 'import kmip' >/dev/null 2>&1; then
  need_apt+=(python3-pykmip)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# npm ci only when the lock file changed since the last install.
stamp=node_modules/.strongroom-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
# Native modules must load on this Node; rebuild them if a copied node_modules was built elsewhere.
if ! node -e "require('better-sqlite3'); require('pkcs11js')" >/dev/null 2>&1; then
  echo "setup: rebuilding native modules"
  npm rebuild better-sqlite3 pkcs11js --loglevel=error
fi

echo "setup: compiling TypeScript"
npx tsc -p tsconfig.json
chmod +x dist/cli/main.js
