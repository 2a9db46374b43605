#!/usr/bin/env bash
# Runs the OpenCL backend suite for real, on PoCL 6 inside a Debian 13 (trixie) chroot
# (docs/gpu.md, "OpenCL in CI"). Debian 12's PoCL 3.1 lacks the generic address space ILGPU
# requires, so the host cannot run it.
#
#   bash build/opencl-tests.sh [--bootstrap-only]
#
# 1. debootstrap trixie (minbase + pocl-opencl-icd, ocl-icd-libopencl1, ocl-icd-opencl-dev)
#    into $MODELGEN_TRIXIE_DIR (default /var/cache/modelgen/trixie), reused when present;
# 2. build tests/ModelGen.Devices.Tests unless it is built (skip with MODELGEN_NO_BUILD=1);
# 3. bind-mount /proc, /sys (PoCL reads sysfs), /dev, the .NET install and the repository;
# 4. run the OpenCL suite with MODELGEN_REQUIRE_OPENCL=1 (no device = failure, not a skip),
#    writing artifacts/test-results/ModelGen.Devices.Tests.OpenCL.trx;
# 5. echo the OpenCL device the suite ran on ("== OpenCL device: ..."), then unmount, even on failure.
# Needs root and network access to the Debian mirror on the first run. Exits non-zero, loudly,
# when the chroot cannot be built or the suite cannot run.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
config="${CONFIGURATION:-Release}"
chroot_dir="${MODELGEN_TRIXIE_DIR:-/var/cache/modelgen/trixie}"
mirror="${MODELGEN_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
results="$root/artifacts/test-results"
trx_name="ModelGen.Devices.Tests.OpenCL.trx"
project="tests/ModelGen.Devices.Tests"
fail() { echo "!! opencl-tests: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || fail "must run as root (debootstrap, chroot and bind mounts)"
command -v dotnet >/dev/null || fail "the .NET SDK is required (dotnet on PATH)"
dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"

# 1. The chroot, cached between runs: the marker is written only after a complete bootstrap.
if [[ ! -f "$chroot_dir/.modelgen-ready" ]]; then
  if ! command -v debootstrap >/dev/null; then
    apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null || fail "cannot install debootstrap"
  fi
  echo "== bootstrapping Debian trixie with PoCL into $chroot_dir (about 1-2 minutes, 0.8 GB)"
  start=$SECONDS
  rm -rf "$chroot_dir.partial"
  mkdir -p "$(dirname "$chroot_dir")"
  # bookworm's debootstrap knows trixie through the sid script.
  script=""
  [[ -e /usr/share/debootstrap/scripts/trixie ]] || script=/usr/share/debootstrap/scripts/sid
  if ! debootstrap --variant=minbase \
      --include=pocl-opencl-icd,ocl-icd-libopencl1,ocl-icd-opencl-dev \
      trixie "$chroot_dir.partial" "$mirror" $script; then
    tail -20 "$chroot_dir.partial/debootstrap/debootstrap.log" 2>/dev/null
    fail "debootstrap of trixie failed (see above); the OpenCL suite did not run"
  fi
  rm -rf "$chroot_dir"
  mv "$chroot_dir.partial" "$chroot_dir"
  touch "$chroot_dir/.modelgen-ready"
  echo "== chroot ready in $((SECONDS - start))s, $(du -sh "$chroot_dir" | cut -f1)"
fi
[[ -e "$chroot_dir/usr/lib/x86_64-linux-gnu/libOpenCL.so" ]] || [[ -n "$(find "$chroot_dir/usr/lib" -name libOpenCL.so 2>/dev/null | head -1)" ]] \
  || fail "libOpenCL.so (ocl-icd-opencl-dev) is missing from $chroot_dir; ILGPU would find no device. Delete the folder to rebuild it"
[[ "${1:-}" == "--bootstrap-only" ]] && exit 0

# 2. The tests, built on the host (the chroot only runs them).
if [[ "${MODELGEN_NO_BUILD:-0}" != "1" ]]; then
  dotnet build "$project" -c "$config" -nologo -v:q || fail "building $project failed"
fi
dll="$root/$project/bin/$config/net10.0/ModelGen.Devices.Tests.dll"
[[ -f "$dll" ]] || fail "$dll is missing: build the tests first"

# 3. Bind mounts, undone by the trap whatever happens.
mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}" 2>/dev/null \
      || echo "!! could not unmount ${mounted[$i]}" >&2
  done
}
trap cleanup EXIT
bind() {
  mkdir -p "$chroot_dir$2"
  mount --bind "$1" "$chroot_dir$2" || fail "cannot bind-mount $1 at $chroot_dir$2"
  mounted+=("$chroot_dir$2")
}
bind /proc /proc
bind /sys /sys
bind /dev /dev
bind "$dotnet_root" /opt/dotnet
bind "$root" "$root"
mkdir -p "$results"

# 4. The suite: the xunit v3 test assembly runs as its own host, so no SDK or NuGet cache is
#    needed in the chroot. Only the OpenCL class runs; MODELGEN_REQUIRE_OPENCL makes a missing
#    device a failure.
echo "== OpenCL suite in the trixie chroot (PoCL)"
chroot "$chroot_dir" /usr/bin/env -i \
  PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DOTNET_ROOT=/opt/dotnet \
  DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 \
  MODELGEN_REQUIRE_OPENCL=1 POCL_CACHE_DIR=/tmp/pocl-cache \
  /opt/dotnet/dotnet exec "$dll" -class ModelGen.Devices.Tests.OpenCLBackendTests \
  -trx "$results/$trx_name" -noColor
status=$?
[[ -f "$results/$trx_name" ]] || { echo "!! opencl-tests: the suite wrote no results"; status=1; }
# 5. Which device it ran on, from ReportsItsDevice's output in the results, for the CI log.
device="$(grep -o 'OpenCL device: [^<&]*' "$results/$trx_name" 2>/dev/null | head -1)"
if [[ -n "$device" ]]; then
  echo "== $device"
else
  echo "!! opencl-tests: the results name no OpenCL device (ReportsItsDevice did not run or failed)"
  status=1
fi
exit $status
