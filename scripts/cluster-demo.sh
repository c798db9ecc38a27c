#!/usr/bin/env bash
# Starts a Strongroom cluster on this machine's loopback: three
# etcd/Patroni/PostgreSQL 15 nodes and three `strongroom serve` appliances
# on them (one SoftHSM2 token each, holding the shared master key), prints
# their addresses, the client credentials it made and how to use them (the
# client library's `servers` option, the CLI), and holds them until Ctrl-C,
# which stops every process and removes their folders (docs/cluster.md).
# Needs root (the PostgreSQL nodes run as the postgres user). Safe to run
# again: scripts/setup.sh installs only what is missing, and each run starts
# from new folders.
#
#   sudo bash scripts/cluster-demo.sh
#
# CLUSTER_DEMO_SKIP_SETUP=1 skips scripts/setup.sh (dist/ must be built).
set -euo pipefail
for arg in "$@"; do
  case $arg in
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster-demo: no arguments are taken (usage: sudo bash scripts/cluster-demo.sh)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "cluster-demo: run it as root (the PostgreSQL nodes run as the postgres user): sudo bash scripts/cluster-demo.sh" >&2
  exit 2
fi
if [ "${CLUSTER_DEMO_SKIP_SETUP:-0}" = 1 ]; then
  echo "cluster-demo: CLUSTER_DEMO_SKIP_SETUP=1: skipping scripts/setup.sh"
else
  bash scripts/setup.sh
fi
# exec: Ctrl-C reaches the demo itself, which stops the appliances and the cluster before it exits.
exec node dist/scripts/cluster/demo.js
