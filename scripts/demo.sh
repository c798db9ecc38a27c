#!/usr/bin/env bash
# Sets up whatever is missing and brings up a demo appliance in ./demo-data:
# a SoftHSM2 token made for it, a master key inside the token, a keychain,
# and a few demo keys (one rolled over). Safe to run again: an existing
# demo-data folder is reused, not replaced.
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

echo
sr status
echo
sr key list
echo
cat <<TXT
The demo appliance is ready in $STRONGROOM_DATA. Try:
  export STRONGROOM_DATA=$STRONGROOM_DATA
  npx strongroom key show hr/payroll
  npx strongroom key get hr/payroll --format hex
  npx strongroom key get --instance <an older instance name from key show>
  npx strongroom key create app/new-key --cryptoperiod P90D
  npx strongroom --help
TXT
