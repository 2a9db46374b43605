#!/usr/bin/env bash
# Totals the TRX files of a results folder into the one line CI reads:
#   bash build/trx-summary.sh <results-dir>   ->  "N passed, N failed, N skipped"
# (one "name: total, passed, failed, not run" line per file first). Exit code 0 only when at
# least one test passed and none failed. Used by build/test.sh and .ci/run.
set -uo pipefail
results="$1"
passed=0 failed=0 skipped=0
for trx in "$results"/*.trx; do
  [[ -f "$trx" ]] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$(get total); executed=$(get executed); p=$(get passed); f=$(get failed)
  e=$(get error); t=$(get timeout); a=$(get aborted)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0} + ${a:-0}))
  skipped=$((skipped + ${total:-0} - ${executed:-0}))
  echo "   $(basename "$trx" .trx): total ${total:-0}, passed ${p:-0}, failed $(( ${f:-0} + ${e:-0} + ${t:-0} + ${a:-0} )), not run $(( ${total:-0} - ${executed:-0} ))"
done
echo "$passed passed, $failed failed, $skipped skipped"
[[ $passed -gt 0 && $failed -eq 0 ]]
