#!/usr/bin/env bash
# Starts the web server, the background task worker and the periodic-job scheduler;
# Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
PY=.venv/bin/python

$PY manage.py db_worker --queue-name '*' --no-reload &
worker=$!
$PY manage.py run_scheduler &
scheduler=$!
$PY manage.py runserver --noreload "127.0.0.1:${PORT}" &
web=$!
stop() {
  kill "$web" "$worker" "$scheduler" 2>/dev/null || true
  wait "$web" "$worker" "$scheduler" 2>/dev/null || true
}
trap 'stop; exit 0' INT TERM
trap stop EXIT
$PY manage.py demo_accounts --port "$PORT"
# Stop everything as soon as either process exits.
wait -n "$web" "$worker" "$scheduler"
