#!/usr/bin/env bash
# Stops everything tests/ground/up.sh started for DIR (each piece runs in its own process group,
# recorded in DIR/pids/). Idempotent; keeps DIR (logs) unless --purge.
#
#   tests/ground/down.sh DIR [--purge]
set -uo pipefail
DIR=${1:?usage: down.sh DIR [--purge]}
[ -d "$DIR" ] || exit 0
DIR=$(cd "$DIR" && pwd)
self_pgid=$(ps -o pgid= -p $$ | tr -d ' ')
pgids=()
for f in "$DIR"/pids/*; do
  [ -e "$f" ] || continue
  pid=$(cat "$f")
  # The reaper execs this script: never signal our own group.
  if [ -n "$pid" ] && [ "$pid" != "$self_pgid" ] && kill -0 -- "-$pid" 2>/dev/null; then
    pgids+=("$pid")
    kill -TERM -- "-$pid" 2>/dev/null
  fi
done
# Up to 3 s for a clean exit, then SIGKILL what is left.
for _ in $(seq 30); do
  left=()
  for g in "${pgids[@]}"; do kill -0 -- "-$g" 2>/dev/null && left+=("$g"); done
  [ ${#left[@]} -eq 0 ] && break
  sleep 0.1
done
for g in "${pgids[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
for g in "${pgids[@]}"; do
  for _ in $(seq 20); do kill -0 -- "-$g" 2>/dev/null || break; sleep 0.05; done
done
rm -f "$DIR"/pids/* "$DIR"/sock/*
if [ "${2:-}" = --purge ]; then rm -rf "$DIR"; fi
exit 0
