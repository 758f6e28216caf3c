#!/usr/bin/env bash
# npm start: install (first run), build, prepare NATS and PostgreSQL, run every service and the dashboard.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent

exec node infra/dist/start.js "$@"
