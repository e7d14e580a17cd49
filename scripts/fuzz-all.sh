#!/usr/bin/env bash
# Runs every native fuzz target in the module for the given time each.
# Minimization of each new input is capped (go test's default is 60 s):
# on targets whose inputs are whole SOAP messages, uncapped minimization
# took the entire run and left almost no time for new inputs.
set -euo pipefail
t=${1:-1m}
m=${FUZZMINIMIZETIME:-5s}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "== $pkg $f ($t)"
    go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" -fuzzminimizetime "$m" "$pkg"
  done
done
