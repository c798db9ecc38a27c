#!/usr/bin/env bash
# Run by scripts/setup.sh after its apt-get step. The cluster harness
# (scripts/cluster/) runs its own etcd members and Patroni-managed PostgreSQL
# nodes as the postgres user in a temp folder on ports it chooses; the system
# services that Debian's packages set up on install are of no use to it, and on
# a machine whose init starts them they hold port 5432 (postgresql-common's
# automatic "15/main" cluster) and 2379 (etcd's /var/lib/etcd/default) and
# spend CPU that CI's two cores need. This stops and disables what the install
# just started, and only that: a PostgreSQL cluster or etcd that was on the
# machine before is somebody's and is left alone.
#
#   quiet-debian-services.sh HAD_PG_MAIN INSTALLED_NOW
#     HAD_PG_MAIN    yes when /etc/postgresql/15/main existed before the install
#     INSTALLED_NOW  the Debian packages setup.sh installed in this run (space-separated)
#
# Patroni's service needs /etc/patroni/config.yml (its unit's condition), which
# nothing creates, so it never starts by itself. Safe to run again: each step
# looks before it acts, and says what it did.
set -euo pipefail
had_pg_main=${1:-yes}
installed_now=" ${2:-} "
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
# Where systemd is the init, services are units; elsewhere (containers, where
# policy-rc.d usually refuses every start anyway) they are /etc/init.d scripts.
if [ -d /run/systemd/system ]; then systemd=yes; else systemd=no; fi

quieted=()

if [ "$had_pg_main" = no ] && [ -e /etc/postgresql/15/main ]; then
  # postgresql-common made this cluster while installing postgresql-15
  # (create_main_cluster): stop it, and mark it manual so no boot starts it.
  if pg_lsclusters -h 15 main 2>/dev/null | grep -q online; then
    echo "setup: stopping the PostgreSQL cluster 15/main that installing postgresql-15 started (it holds port 5432; the harness runs its own)"
    $SUDO pg_ctlcluster 15 main stop || echo "setup: warning: could not stop 15/main; stop it with: pg_ctlcluster 15 main stop" >&2
  fi
  if [ "$(tr -d '[:space:]' < /etc/postgresql/15/main/start.conf 2>/dev/null | sed 's/#.*//')" != manual ]; then
    echo "setup: marking the PostgreSQL cluster 15/main manual (/etc/postgresql/15/main/start.conf), so no boot starts it"
    $SUDO sed -i 's/^auto$/manual/' /etc/postgresql/15/main/start.conf
  fi
  [ "$systemd" = yes ] && $SUDO systemctl disable --now -q postgresql.service 2>/dev/null || true
  quieted+=("postgresql 15/main")
fi

if [[ $installed_now == *" etcd-server "* ]]; then
  if [ "$systemd" = yes ]; then
    echo "setup: stopping and disabling the system etcd service that installing etcd-server enabled (the harness runs its own members)"
    $SUDO systemctl disable --now -q etcd.service || true
  elif [ -x /etc/init.d/etcd ]; then
    if $SUDO /etc/init.d/etcd status >/dev/null 2>&1; then
      echo "setup: stopping the system etcd that installing etcd-server started (the harness runs its own members)"
      $SUDO /etc/init.d/etcd stop || true
    fi
    $SUDO update-rc.d etcd disable >/dev/null 2>&1 || true
  fi
  quieted+=("etcd")
fi

if [ ${#quieted[@]} -gt 0 ]; then
  echo "setup: system services of the cluster engine stopped and disabled: ${quieted[*]}"
else
  echo "setup: cluster engine packages: no system service of theirs was started by this run (the harness runs its own): nothing to stop"
fi
