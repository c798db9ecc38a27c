#!/usr/bin/env bash
# Puts ONE new AES-256 master key into several PKCS#11 tokens, so that the
# appliances using them open each other's backups (docs/backup.md §6): a key
# ceremony for SoftHSM2 (tests, labs) or any token that accepts a written
# secret key. Uses pkcs11-tool from Debian's opensc (scripts/setup.sh).
#
# The key is drawn from /dev/urandom into a private folder (RAM, /dev/shm,
# when there is one), written into each token as a token object that is
# sensitive, not extractable, private, and wrap/unwrap-capable, labelled and
# identified as Strongroom labels master key VERSION (hsm/hsm-port.ts,
# hsm/pkcs11-objects.ts), then overwritten and removed, whatever happens.
# Nothing else keeps it: a token added later needs a new ceremony (and a
# master-key rotation) or the vendor's cloning.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/share-master-key.sh [--version N] [--module PATH] TOKEN...

Writes one new random AES-256 master key (Strongroom's label
strongroom-master-vN, CKA_ID N as 4 bytes) into every TOKEN, then wipes it.
Each TOKEN is LABEL:PIN_FILE[:SOFTHSM2_CONF]: the token label, a file holding
its user PIN (mode 0600; the PIN is passed to pkcs11-tool through the
environment, never the command line), and for SoftHSM2 the configuration
file of the folder that holds that token.

Refuses, before writing anything, when any token already holds an object
labelled strongroom-master-vN (a master key is never replaced).

Afterwards, in each appliance's appliance.conf:
  hsm_imported_master_keys = N
then `strongroom init` (it uses the token's master key) or, for an existing
keychain, `strongroom master-key rotate` to version N.

Options:
  --version N     master-key version to write (default 1)
  --module PATH   PKCS#11 module (default: Debian's SoftHSM2 module)
  -h, --help      this text

Exit codes: 0 written into every token; 2 usage (a TOKEN's form, an
unreadable PIN file or SOFTHSM2_CONF); 3 pkcs11-tool or the module missing,
or a token that does not open (its message is shown: label, PIN); 4 a token
already holds the version; 5 a write failed part way (the message says
which tokens hold the key).

Example (two SoftHSM2 tokens made with softhsm2-util in folders A and B):
  scripts/share-master-key.sh a-token:A/pin:A/softhsm2.conf b-token:B/pin:B/softhsm2.conf
EOF
}

version=1
module=/usr/lib/softhsm/libsofthsm2.so
tokens=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --version) [ $# -ge 2 ] || { echo "share-master-key: --version needs N (see --help)" >&2; exit 2; }; version="$2"; shift 2 ;;
    --module) [ $# -ge 2 ] || { echo "share-master-key: --module needs PATH (see --help)" >&2; exit 2; }; module="$2"; shift 2 ;;
    -*) echo "share-master-key: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) tokens+=("$1"); shift ;;
  esac
done
[[ "$version" =~ ^[1-9][0-9]{0,9}$ ]] && [ "$version" -le 2147483647 ] || { echo "share-master-key: --version must be a whole number from 1" >&2; exit 2; }
[ ${#tokens[@]} -ge 1 ] || { echo "share-master-key: name at least one TOKEN (see --help)" >&2; exit 2; }
command -v pkcs11-tool >/dev/null 2>&1 || { echo "share-master-key: pkcs11-tool is missing: run scripts/setup.sh (apt-get install opensc)" >&2; exit 3; }
[ -r "$module" ] || { echo "share-master-key: no PKCS#11 module at $module (--module)" >&2; exit 3; }

label="strongroom-master-v${version}"
id=$(printf '%08x' "$version")

# One token: sets SOFTHSM2_CONF (when given) and the PIN for pkcs11-tool.
run_tool() {
  local spec="$1"; shift
  local tlabel pinfile conf
  IFS=: read -r tlabel pinfile conf <<<"$spec"
  [ -n "$tlabel" ] && [ -r "$pinfile" ] || { echo "share-master-key: TOKEN \"$spec\" must be LABEL:PIN_FILE[:SOFTHSM2_CONF] with a readable PIN file" >&2; return 2; }
  # A subshell's exports: the PIN reaches pkcs11-tool's environment, never an argv that ps shows.
  (
    SR_TOKEN_PIN="$(tr -d '\r\n' <"$pinfile")"; export SR_TOKEN_PIN
    if [ -n "$conf" ]; then export SOFTHSM2_CONF="$conf"; fi
    exec pkcs11-tool --module "$module" --token-label "$tlabel" --login --pin env:SR_TOKEN_PIN "$@"
  )
}

# The form of every TOKEN first, each mistake named (pkcs11-tool would only say it cannot open the token).
for spec in "${tokens[@]}"; do
  IFS=: read -r tlabel pinfile conf <<<"$spec"
  [ -n "$tlabel" ] && [ -n "$pinfile" ] || { echo "share-master-key: TOKEN \"$spec\" must be LABEL:PIN_FILE[:SOFTHSM2_CONF] (see --help)" >&2; exit 2; }
  [ -f "$pinfile" ] && [ -r "$pinfile" ] || { echo "share-master-key: token $tlabel: PIN file $pinfile is not a readable file" >&2; exit 2; }
  [ -z "$conf" ] || { [ -f "$conf" ] && [ -r "$conf" ]; } || { echo "share-master-key: token $tlabel: SOFTHSM2_CONF $conf is not a readable file" >&2; exit 2; }
done

# Check every token first: a refusal must leave all of them untouched.
for spec in "${tokens[@]}"; do
  if ! listing=$(run_tool "$spec" --list-objects --type secrkey 2>&1); then
    # pkcs11-tool's own last line says which: no such label (with the labels present) or a wrong PIN (CKR_PIN_INCORRECT).
    echo "share-master-key: cannot open token ${spec%%:*}: $(grep -Ev '^[[:space:]]*$|^Aborting\.$' <<<"$listing" | tail -n 1)" >&2
    exit 3
  fi
  if grep -qE "^[[:space:]]*label:[[:space:]]+${label}\$" <<<"$listing"; then
    echo "share-master-key: token ${spec%%:*} already holds $label; a master key is never replaced (choose another --version)" >&2
    exit 4
  fi
done

umask 077
base=/dev/shm; [ -d "$base" ] && [ -w "$base" ] || base="${TMPDIR:-/tmp}"
workdir=$(mktemp -d "$base/strongroom-master-key.XXXXXX")
keyfile="$workdir/master.key"
wipe() { [ -f "$keyfile" ] && shred -u -z "$keyfile" 2>/dev/null || rm -f "$keyfile"; rmdir "$workdir" 2>/dev/null || true; }
trap wipe EXIT INT TERM
head -c 32 /dev/urandom >"$keyfile"

for spec in "${tokens[@]}"; do
  echo "share-master-key: writing $label into token ${spec%%:*}..."
  run_tool "$spec" --write-object "$keyfile" --type secrkey --key-type AES:32 \
    --label "$label" --id "$id" --sensitive --private --usage-wrap >/dev/null 2>&1 \
    || { echo "share-master-key: writing into token ${spec%%:*} failed; tokens written before it keep the key (delete it with pkcs11-tool --delete-object --type secrkey --label $label)" >&2; exit 5; }
done
wipe
trap - EXIT INT TERM
echo "share-master-key: $label is in ${#tokens[@]} token(s); the key file ($keyfile) is wiped. Set hsm_imported_master_keys = $version in each appliance.conf."
