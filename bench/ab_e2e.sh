#!/usr/bin/env bash
# E2E lines/s of two code versions as interleaved single runs (old new, new old, …), so that a shared machine's
# changing load falls on both: OLD=<rev> (default: where HEAD left main) against the committed HEAD, RUNS pairs
# (default 3).
# Swaps the services' and libs' files that differ, and the outbox fillfactor (plumbing_03) when OLD predates it,
# between runs; puts HEAD back at the end. Needs a clean work tree under services/ and libs/. ROLLSYNC_PG_PORT
# defaults to 55432, as in tests/support/stack.py.
set -euo pipefail
cd "$(dirname "$0")/.."
old=${OLD:-$(git merge-base main HEAD)}
runs=${RUNS:-3}
mapfile -t changed < <(git diff --name-only "$old" HEAD -- services libs)
[[ -z "$(git status --porcelain -- services libs)" ]] || { echo "services/ or libs/ has local changes" >&2; exit 1; }
FILLFACTOR_SQL=libs/common/src/common/sql/plumbing_03_outbox_fillfactor.sql
old_fillfactor=50
git cat-file -e "$old:$FILLFACTOR_SQL" 2>/dev/null || old_fillfactor=100
psql_admin() { psql -h 127.0.0.1 -p "${ROLLSYNC_PG_PORT:-55432}" -U rollsync_admin rollsync -qAtc "$1"; }
restore() { git checkout -q HEAD -- services libs; }  # also brings back files the old side removed
trap restore EXIT
side() {
  if [[ $1 == old ]]; then
    for f in "${changed[@]}"; do
      if git cat-file -e "$old:$f" 2>/dev/null; then git show "$old:$f" >"$f"; else rm -f "$f"; fi
    done
    psql_admin "ALTER TABLE ingest.outbox SET (fillfactor = $old_fillfactor); ALTER TABLE transform.outbox SET (fillfactor = $old_fillfactor)"
  else
    restore
    psql_admin "ALTER TABLE ingest.outbox SET (fillfactor = 50); ALTER TABLE transform.outbox SET (fillfactor = 50)"
  fi
  echo "== $1 ($(uptime | sed 's/.*load average/load average/'))"
  CASE=E2E BENCH_E2E_RUNS=1 ROLLSYNC_TEST_PORT_BASE=${ROLLSYNC_BENCH_PORT_BASE:-38100} .venv/bin/python -m bench.run_all |
    grep -E 'E2E run|median_lines_per_s'
}
for i in $(seq 1 "$runs"); do
  if ((i % 2)); then side old; side new; else side new; side old; fi
done
