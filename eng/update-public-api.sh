#!/usr/bin/env bash
# Adds every public symbol the PublicApiAnalyzers report as undeclared (RS0016) to PublicAPI.Unshipped.txt
# of the given project, then rebuilds. Review the diff: a change to a shipped symbol is a breaking change.
set -euo pipefail
project=${1:-abstractions/Donjon.Abstractions.csproj}
dir=$(dirname "$project")
out=$(dotnet build "$project" --no-incremental 2>&1 || true)
printf '%s\n' "$out" | grep -o "RS0016: Symbol '[^']*'" | sed "s/^RS0016: Symbol '//; s/'\$//" | sort -u > /tmp/donjon-api-new.txt || true
{ cat "$dir/PublicAPI.Unshipped.txt"; cat /tmp/donjon-api-new.txt; } | grep -v '^#nullable' | sort -u > /tmp/donjon-api-all.txt
{ echo '#nullable enable'; cat /tmp/donjon-api-all.txt; } > "$dir/PublicAPI.Unshipped.txt"
dotnet build "$project" 2>&1 | grep -E 'error|Warn|Build succeeded' | sort -u | head -40
