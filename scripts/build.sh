#!/usr/bin/env bash
# Compiles the TypeScript into dist/ only when the sources changed since the
# last build, and says which it did.
#
#   scripts/build.sh           compile if needed (exit 0), or fail with tsc's errors
#   scripts/build.sh --check   only decide: exit 0 when dist/ is up to date, 1 when
#                              a build is needed; prints the reason either way
#
# "The sources" are every *.ts file, tsconfig*.json, package.json and
# package-lock.json under the current folder (node_modules, dist and .git
# left out), hashed by content and path with sha256sum: a content hash, not
# modification times, because a git clone or an unpacked tarball gives every
# file a new mtime, and it needs no git so it works from a tarball too. A
# build that succeeds writes the hash to dist/.source-sha256. dist/ is up to
# date when that stamp holds the current hash and no file in dist/ is newer
# than the stamp (a plain `npx tsc` run since, of other sources, would make
# the stamp a lie). tsc emits even on type errors, so a failed build removes
# the stamp: the next run compiles, and fails, again.
# Runs in the folder it is started from (setup.sh starts it at the repo root);
# TSC_COMMAND overrides the compiler (default: node_modules' tsc).
set -euo pipefail

stamp=dist/.source-sha256

source_hash() {
  find . \( -name node_modules -o -name dist -o -name .git \) -prune -o -type f \
    \( -name '*.ts' -o -name 'tsconfig*.json' -o -name package.json -o -name package-lock.json \) -print0 \
    | LC_ALL=C sort -z | xargs -0 -r sha256sum | sha256sum | cut -d' ' -f1
}

# Prints why a build is needed and returns 1, or returns 0 when dist/ is up to date.
needs_build_reason() {
  local current=$1
  if [ ! -f "$stamp" ]; then
    echo "no record of a previous build ($stamp)"
    return 1
  fi
  if [ "$(cat "$stamp")" != "$current" ]; then
    echo "the sources changed since the last build"
    return 1
  fi
  if [ -n "$(find dist -type f -newer "$stamp" -print -quit)" ]; then
    echo "dist/ was compiled again outside this script since its last build"
    return 1
  fi
  return 0
}

current=$(source_hash)
if reason=$(needs_build_reason "$current"); then
  if [ "${1:-}" = --check ]; then
    echo "build: dist/ is up to date with the sources"
  else
    echo "build: TypeScript sources unchanged since the last build: not compiling (delete $stamp to force it)"
  fi
  exit 0
fi
if [ "${1:-}" = --check ]; then
  echo "build: needed: $reason"
  exit 1
fi

echo "build: $reason: compiling TypeScript into dist/ (about 15 s; a minute or more on a busy machine)..."
rm -f "$stamp"
started=$SECONDS
${TSC_COMMAND:-node node_modules/typescript/bin/tsc -p tsconfig.json}
if [ -f dist/cli/main.js ]; then chmod +x dist/cli/main.js; fi
echo "$current" > "$stamp"
echo "build: compiled in $((SECONDS - started)) s"
