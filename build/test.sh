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

if ! bash "$root/build/trx-summary.sh" "$results"; then status=1; fi
exit $status
