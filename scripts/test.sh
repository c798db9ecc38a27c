#!/usr/bin/env bash
# Sets up whatever is missing, then runs the whole test suite against a real
# SoftHSM2 token, real SQLite files and the compiled CLI. The type check is the
# compile in setup.sh (tsc fails on any type error; when no source changed
# since the last successful compile, that compile and its check are skipped). Ends with the plain line
# "N passed, N failed" that CI reads.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

results=$(mktemp -t strongroom-jest-XXXXXX.json)
echo "test: running the test suites with jest (the whole suite takes about 5 minutes on 2 idle cores, longer on a busy machine)..."
npx jest --ci --json --outputFile="$results" "$@"
status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
  console.log(`${r.numPassedTests} passed, ${failed} failed`);
' "$results" || { echo "0 passed, 1 failed"; status=1; }
rm -f "$results"
exit $status
