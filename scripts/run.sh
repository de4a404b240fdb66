#!/usr/bin/env bash
# Starts the web server and the background task worker; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
PY=.venv/bin/python

$PY manage.py db_worker --queue-name '*' &
worker=$!
$PY manage.py runserver "127.0.0.1:${PORT}" &
web=$!
stop() { kill "$web" "$worker" 2>/dev/null || true; wait "$web" "$worker" 2>/dev/null || true; }
trap 'stop; exit 0' INT TERM
trap stop EXIT
$PY manage.py demo_accounts --port "$PORT"
# Stop everything as soon as either process exits.
wait -n "$web" "$worker"
