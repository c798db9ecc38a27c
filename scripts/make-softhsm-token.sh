#!/usr/bin/env bash
# Makes a SoftHSM2 token for trying Strongroom out, the way
# hsm/softhsm-token.ts does for the tests: DIR/softhsm2.conf pointing at
# DIR/tokens/, then `softhsm2-util --init-token --free`.
#
#   scripts/make-softhsm-token.sh DIR LABEL
#
# The user PIN comes from $USER_PIN and the SO PIN from $SO_PIN; each one not
# given is generated at random and written to DIR/user-pin or DIR/so-pin
# (mode 600). Idempotent: a token already labelled LABEL is left as it is.
# The PINs reach softhsm2-util through argv (briefly visible to `ps` on this
# host): fine for a test or demo token, never for a production HSM.
# SoftHSM2 reads SOFTHSM2_CONF when the library initialises, so export the
# printed line before starting Strongroom.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 DIR LABEL" >&2
  exit 2
fi
dir=$1
label=$2
if [[ ${#label} -lt 1 || ${#label} -gt 32 ]]; then
  echo "$0: LABEL must be 1..32 characters" >&2
  exit 2
fi
command -v softhsm2-util >/dev/null || { echo "$0: softhsm2-util not found; apt-get install softhsm2" >&2; exit 1; }

umask 077
mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
conf="$dir/softhsm2.conf"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$dir/tokens" > "$conf"
export SOFTHSM2_CONF="$conf"

# A PIN from the environment, else the one saved in DIR/NAME, else a new random one saved there.
pin_for() {
  local given=$1 file="$dir/$2"
  if [[ -n $given ]]; then
    printf '%s' "$given"
  elif [[ -s $file ]]; then
    cat "$file"
  else
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$file"
    chmod 600 "$file"
    cat "$file"
  fi
}

if softhsm2-util --show-slots | sed -n 's/^[[:space:]]*Label:[[:space:]]*//p' | sed 's/[[:space:]]*$//' | grep -Fxq -- "$label"; then
  echo "token '$label' already exists in $dir" >&2
else
  user_pin=$(pin_for "${USER_PIN:-}" user-pin)
  so_pin=$(pin_for "${SO_PIN:-}" so-pin)
  softhsm2-util --init-token --free --label "$label" --so-pin "$so_pin" --pin "$user_pin" >&2
  [[ -n ${USER_PIN:-} ]] || echo "user PIN saved in $dir/user-pin" >&2
fi

echo "export SOFTHSM2_CONF=$conf"
