#!/usr/bin/env bash
# Runs every test project in the solution and ends with one line of its own,
# "N passed, N failed, N skipped", totalled over all projects from their TRX results
# (dotnet test's own summary is per project and is not read as the result).
# Exit code: 0 only if every project ran, at least one test ran, and none failed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0
config="${CONFIGURATION:-Release}"
results="$root/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

echo "== building ModelGen.sln ($config)"
if ! dotnet build ModelGen.sln -c "$config" -nologo -v:q; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

status=0
projects=$(find tests -name '*.Tests.csproj' | sort)
for project in $projects; do
  name="$(basename "$project" .csproj)"
  echo "== $name"
  if ! dotnet test "$project" -c "$config" --no-build -nologo \
      --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
      --results-directory "$results" "$@"; then
    status=1
  fi
  if [[ ! -f "$results/$name.trx" ]]; then
    echo "!! $name produced no results (the test host crashed or did not start)"
    status=1
  fi
done

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

if [[ $passed -eq 0 ]]; then status=1; fi
if [[ $failed -gt 0 ]]; then status=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
