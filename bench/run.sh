#!/usr/bin/env bash
# Runs the BenchmarkDotNet benchmarks of AnycastDns; arguments go to BenchmarkDotNet, e.g.
#   bench/run.sh --job short                    every benchmark, short job
#   bench/run.sh --job short --filter '*Engine*' only the engine cases
# Without a --filter of your own every benchmark runs (BenchmarkDotNet refuses --filter given twice).
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

filter=(--filter '*')
for arg in "$@"; do
    case $arg in
        -f | --filter | --filter=*) filter=() ;;
    esac
done
exec dotnet run -c Release --project bench/AnycastDns.Benchmarks -- "${filter[@]}" "$@"
