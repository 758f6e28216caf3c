#!/usr/bin/env bash
# npm test: lint, typecheck (and build), then every test suite against real NATS and PostgreSQL.
# Ends with one line "tests: N passed, M failed" summing every suite.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tmp/results
rm -f .tmp/results/*.json
status=0
step() {
  echo "== $*"
  "$@" || status=1
}
step npx biome check .
step npm run --silent typecheck
for project in integration fault e2e; do
  step npx vitest run --project "$project" --reporter=default --reporter=json --outputFile=".tmp/results/$project.json"
done
node scripts/summarize-tests.mjs .tmp/results || status=1
exit $status
