#!/usr/bin/env bash
# Sets up whatever is missing and starts a demo appliance from ./demo-data:
# a SoftHSM2 token made for it, a master key inside the token, a keychain,
# the appliance CA and an officer certificate, a few demo keys (one rolled
# over), an app certificate with a grant, then `strongroom serve` in the
# foreground (Ctrl-C stops it). Safe to run again: an existing demo-data
# folder is reused, not replaced. DEMO_NO_SERVE=1 prepares without serving.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export STRONGROOM_DATA="${STRONGROOM_DATA:-$PWD/demo-data}"
sr() { node dist/cli/main.js "$@"; }

if ! sr status --no-hsm >/dev/null 2>&1; then
  sr init --demo-token
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

if [ ! -f "$STRONGROOM_DATA/certs/demo-app.crt" ]; then
  sr client issue demo-app --role app --groups demo --out "$STRONGROOM_DATA/certs" >/dev/null
  sr policy grant --group demo --pattern 'hr/*' --permissions get,locate,encrypt,decrypt,generate-data-key,decrypt-data-key >/dev/null
  echo "demo: issued an app certificate (demo-app) allowed to use hr/*"
fi

echo
sr status
echo
sr key list
port=$( (grep -E '^listen_port' "$STRONGROOM_DATA/appliance.conf" 2>/dev/null || true) | sed 's/.*= *//'); port=${port:-${STRONGROOM_LISTEN_PORT:-5700}}
echo
cat <<TXT
The demo appliance is in $STRONGROOM_DATA. In another terminal:
  export STRONGROOM_DATA=$STRONGROOM_DATA
  npx strongroom --server 127.0.0.1:$port key list                  # as the officer, over mutual TLS
  npx strongroom --server 127.0.0.1:$port key get hr/payroll --format hex
  npx strongroom --server 127.0.0.1:$port --cert \$STRONGROOM_DATA/certs/demo-app.crt \\
      --key \$STRONGROOM_DATA/certs/demo-app.key key get crm/pii    # refused: PERMISSION_DENIED
  npx strongroom key show hr/payroll                                 # local mode, no server needed
  npx strongroom --help
TXT
if [ "${DEMO_NO_SERVE:-0}" = 1 ]; then exit 0; fi
echo
echo "Starting the appliance on 127.0.0.1:$port (Ctrl-C to stop)..."
exec node dist/cli/main.js serve
