#!/usr/bin/env bash
# Sets up whatever is missing and starts a demo appliance from ./demo-data:
# a SoftHSM2 token made for it, a master key inside the token, a keychain,
# the appliance CA and the three officer certificates init makes (admin,
# officer-2, officer-3: dual control needs two approvers besides the
# requester), a few demo keys (one rolled over), an app certificate with a
# grant (its material part approved by officer-2 and officer-3 over the
# wire), then `strongroom serve` in the foreground (Ctrl-C stops it). Safe
# to run again: an existing demo-data folder is reused, not replaced.
#
#   bash scripts/demo.sh [--no-serve] [DATA_DIR]
#
# DATA_DIR (else $STRONGROOM_DATA, else ./demo-data) is where the demo lives;
# --no-serve (or DEMO_NO_SERVE=1) prepares it and stops before serving.
# DEMO_SKIP_SETUP=1 skips scripts/setup.sh (for test/readme, whose jest
# global setup already compiled dist/ and which must not rebuild it under
# other running suites).
set -euo pipefail
no_serve=${DEMO_NO_SERVE:-0}
data_arg=
for arg in "$@"; do
  case $arg in
    --no-serve) no_serve=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "demo: unknown option $arg (usage: bash scripts/demo.sh [--no-serve] [DATA_DIR])" >&2; exit 2 ;;
    *) data_arg=$(cd "$(dirname "$arg")" 2>/dev/null && pwd)/$(basename "$arg") || { echo "demo: the folder holding $arg does not exist" >&2; exit 2; } ;;
  esac
done
cd "$(dirname "$0")/.."
if [ "${DEMO_SKIP_SETUP:-0}" = 1 ]; then
  echo "demo: DEMO_SKIP_SETUP=1: skipping scripts/setup.sh"
else
  bash scripts/setup.sh
fi

export STRONGROOM_DATA="${data_arg:-${STRONGROOM_DATA:-$PWD/demo-data}}"
sr() { node dist/cli/main.js "$@"; }

if ! sr status --no-hsm >/dev/null 2>&1; then
  echo "demo: making the demo appliance in $STRONGROOM_DATA (a SoftHSM2 token, its master key, the CA and three officers; about 10 s)..."
  sr init --demo-token
else
  echo "demo: $STRONGROOM_DATA is already initialised: reusing it (remove the folder to start over)"
fi
for spec in "hr/payroll AES-256" "payments/tokens HMAC-SHA256" "crm/pii AES-256"; do
  set -- $spec
  if ! sr key show "$1" >/dev/null 2>&1; then
    sr key create "$1" --algorithm "$2" --owner demo --description "demo key" >/dev/null
    echo "demo: created $1"
  fi
done
if [ "$(sr key show hr/payroll --json | node -e 'process.stdin.on("data",d=>console.log(JSON.parse(d).instances.length))')" = 1 ]; then
  sr key rollover hr/payroll >/dev/null
  echo "demo: rolled hr/payroll over once"
fi

certs="$STRONGROOM_DATA/certs"
if [ ! -f "$certs/demo-app.crt" ]; then
  sr client issue demo-app --role app --groups demo --out "$certs" >/dev/null
  sr policy grant --group demo --pattern 'hr/*' --permissions locate,encrypt,generate-data-key >/dev/null
  echo "demo: issued an app certificate (demo-app) allowed to encrypt with hr/*"
fi
# The two approvers are officers init made (issuing an officer later is itself dual-controlled).
pki="$STRONGROOM_DATA/pki"
# A grant that gives key material (get, decrypt) is dual-controlled: the
# admin asks over the wire and the two other officers approve it. A
# throw-away server on a free port does it once, before the real one starts.
if [ ! -f "$STRONGROOM_DATA/.demo-grant-approved" ]; then
  for officer in officer-2 officer-3; do
    if [ ! -f "$pki/$officer.crt" ]; then
      echo "demo: $pki/$officer.crt is missing ($STRONGROOM_DATA was made by an older strongroom init); remove the folder and run again" >&2
      exit 1
    fi
  done
  echo "demo: granting demo-app get and decrypt on hr/* under dual control: a temporary server, admin asks, officer-2 and officer-3 approve (a few seconds)..."
  log=$(mktemp)
  node dist/cli/main.js serve --port 0 >"$log" 2>&1 &
  pid=$!
  tmp_port=""
  for _ in $(seq 1 300); do
    tmp_port=$(node -e 'for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n")) { try { const p = JSON.parse(l).listening?.port; if (p) { console.log(p); break; } } catch {} }' "$log")
    [ -n "$tmp_port" ] && break
    sleep 0.1
  done
  if [ -z "$tmp_port" ]; then kill "$pid" 2>/dev/null || true; cat "$log" >&2; echo "demo: the server did not start" >&2; exit 1; fi
  asked=$(sr --server "127.0.0.1:$tmp_port" --json policy grant --group demo --pattern 'hr/*' --permissions get,decrypt,decrypt-data-key || true)
  read -r id digest < <(echo "$asked" | node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>{const d=JSON.parse(t).error.details;console.log(d.requestId, d.digest)})')
  for officer in officer-2 officer-3; do
    sr --server "127.0.0.1:$tmp_port" --cert "$pki/$officer.crt" --key "$pki/$officer.key" approvals approve "$id" --digest "$digest" >/dev/null
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$log"
  touch "$STRONGROOM_DATA/.demo-grant-approved"
  echo "demo: demo-app may also get and decrypt hr/* (a grant approved by officer-2 and officer-3)"
fi

echo
sr status
echo
sr key list
port=$( (grep -E '^listen_port' "$STRONGROOM_DATA/appliance.conf" 2>/dev/null || true) | sed 's/.*= *//'); port=${port:-${STRONGROOM_LISTEN_PORT:-5700}}
echo
cat <<TXT
The demo appliance is in $STRONGROOM_DATA. In another terminal, in $PWD
(a command marked "exits N" answers N by design):
  export STRONGROOM_DATA=$STRONGROOM_DATA
  npx strongroom --server 127.0.0.1:$port key list                  # as admin (the officer init made first), over mutual TLS
  npx strongroom --server 127.0.0.1:$port --cert \$STRONGROOM_DATA/certs/demo-app.crt \\
      --key \$STRONGROOM_DATA/certs/demo-app.key key get hr/payroll --format hex
  npx strongroom --server 127.0.0.1:$port --cert \$STRONGROOM_DATA/certs/demo-app.crt \\
      --key \$STRONGROOM_DATA/certs/demo-app.key key get crm/pii    # exits 10: PERMISSION_DENIED, no grant
  npx strongroom --server 127.0.0.1:$port key get hr/payroll        # exits 12: an officer's get waits for approvals
  npx strongroom --server 127.0.0.1:$port --cert \$STRONGROOM_DATA/pki/officer-2.crt \\
      --key \$STRONGROOM_DATA/pki/officer-2.key approvals list --state open   # another officer init made
  npx strongroom key show hr/payroll                                 # local mode, no server needed
  npx strongroom --help
TXT
if [ "$no_serve" = 1 ]; then echo; echo "demo: prepared without serving (--no-serve); start it with: bash scripts/demo.sh${data_arg:+ $data_arg}"; exit 0; fi
echo
echo "Starting the appliance on 127.0.0.1:$port (Ctrl-C to stop)..."
exec node dist/cli/main.js serve
