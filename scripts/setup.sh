#!/usr/bin/env bash
# Sets up whatever is missing for Strongroom on Debian bookworm with Node 20:
# Debian's softhsm2 (the HSM for the demo and the tests) and opensc (its
# pkcs11-tool shares a master key between test tokens), rsyslog and
# liblognorm-utils (the real SIEM of test/sinks/rsyslog-siem.test.ts: rsyslog
# ships the mmnormalize and mmpstrucdata modules, liblognorm-utils the
# lognormalizer to try a rulebase by hand), python3-pykmip (the KMIP client
# of test/kmip/pykmip.test.ts), postgresql-15, patroni, etcd-server and
# etcd-client (the cluster harness of scripts/cluster/), the npm packages from
# package-lock.json, and the compiled dist/. Safe to run again: each step
# is skipped when already done, and each says what it does (with roughly how
# long it takes) or what it skips. The first run takes a few minutes (npm ci
# builds two native modules); a later one with nothing changed, a second.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = 'install ok installed' ]; }
command -v softhsm2-util >/dev/null 2>&1 || need_apt+=(softhsm2)
# The test runs its own rsyslogd (own config, folders and loopback ports); where
# systemd runs, installing the package also enables the system's syslog service.
installed rsyslog || need_apt+=(rsyslog)
installed liblognorm-utils || need_apt+=(liblognorm-utils)
# rsyslog's imrelp, the RELP SIEM of test/sinks/relp-delivery.test.ts.
installed rsyslog-relp || need_apt+=(rsyslog-relp)
# PyKMIP, a real KMIP client, for test/kmip/pykmip.test.ts; it runs under
# Debian's /usr/bin/python3 (another python3 first on PATH may lack it).
installed python3-pykmip || need_apt+=(python3-pykmip)
# pkcs11-tool, which scripts/share-master-key.sh uses to write one master key
# into several tokens (test/integration/master-key-move.test.ts, docs/backup.md §6).
command -v pkcs11-tool >/dev/null 2>&1 || need_apt+=(opensc)
# The replicated engine of the cluster harness (scripts/cluster/, docs/cluster.md):
# PostgreSQL 15 under Patroni, with etcd as Patroni's consensus store. Their
# packages start system services of their own (a PostgreSQL cluster on port
# 5432, etcd on 2379); scripts/cluster/quiet-debian-services.sh stops those below.
for p in postgresql-15 patroni etcd-server etcd-client; do installed $p || need_apt+=($p); done
had_pg_main=no; [ -e /etc/postgresql/15/main ] && had_pg_main=yes
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]} (apt-get; about a minute)..."
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
else
  echo "setup: Debian packages present (softhsm2, rsyslog, liblognorm-utils, rsyslog-relp, python3-pykmip, postgresql-15, patroni, etcd-server, etcd-client, opensc): skipping apt-get"
fi
bash scripts/cluster/quiet-debian-services.sh "$had_pg_main" "${need_apt[*]}"

# npm ci only when the lock file changed since the last install.
stamp=node_modules/.strongroom-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm packages from package-lock.json (npm ci; 1-2 minutes, it compiles better-sqlite3 and pkcs11js)..."
  started=$SECONDS
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
  echo "setup: npm packages installed in $((SECONDS - started)) s"
else
  echo "setup: npm packages match package-lock.json: skipping npm ci"
fi
# Native modules must load on this Node; rebuild them if a copied node_modules was built elsewhere.
if ! node -e "require('better-sqlite3'); require('pkcs11js')" >/dev/null 2>&1; then
  echo "setup: rebuilding native modules for this Node (about a minute)..."
  npm rebuild better-sqlite3 pkcs11js --loglevel=error
fi

# Compiles only when a source changed since the last build (scripts/build.sh says which).
bash scripts/build.sh
