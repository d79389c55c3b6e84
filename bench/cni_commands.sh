#!/usr/bin/env bash
# Every command and output format on one generated cluster with CNI policies: 10,000 pods
# in 1,000 Deployments with 1,000 NetworkPolicies, 1,000 Calico and 1,000 Cilium policies
# (a real cluster runs one CNI; together they exercise every tier of the engine). Whole
# process, one core (taskset -c 0), median wall time of RUNS runs and peak RSS (GNU time):
# `matrix` in every format, `check` (text and JSON), `why` (text and JSON) and `diff` of
# two versions differing in one Cilium policy. Inputs go to BENCH_DIR (default: a
# temporary directory, removed on exit). Reads only the files it generates.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/netdoctor-target}"
runs="${RUNS:-5}"
if [ -n "${BENCH_DIR:-}" ]; then
  work="$BENCH_DIR"
  mkdir -p "$work"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
[ -x /usr/bin/time ] || { echo "GNU time is not installed (apt-get install time)" >&2; exit 2; }

cargo build -q --release -p netdoctor-cli --bin netdoctor --example generate_cluster
bin="$CARGO_TARGET_DIR/release/netdoctor"
gen="$CARGO_TARGET_DIR/release/examples/generate_cluster"
"$gen" 10000 1000 1000 --calico 1000 --cilium 1000 --out "$work/old"
cp -r "$work/old" "$work/new"
# One Cilium policy more: every ingress to app7's pods denied.
printf -- '---\napiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: bench-deny}\nspec:\n  endpointSelector: {matchLabels: {app: app7}}\n  ingressDeny: [{fromEntities: [all]}]\n' >>"$work/new/part-0002.yaml"

# measure LABEL OK_CODES CMD...: RUNS runs on core 0; prints "LABEL: median s, max KB".
measure() {
  local label="$1" ok="$2"
  shift 2
  local times=() rss=0
  for _ in $(seq 1 "$runs"); do
    local code=0
    /usr/bin/time -f "%e %M" -o "$work/time" taskset -c 0 timeout 120 "$@" >"$work/out" 2>"$work/err" || code=$?
    [[ " $ok " == *" $code "* ]] || { echo "$label: exit $code" >&2; tail -3 "$work/err" >&2; exit 1; }
    read -r wall kb < <(tail -1 "$work/time")
    times+=("$wall")
    ((kb > rss)) && rss=$kb
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  echo "$label: ${median} s, $((rss / 1024)) MB"
}

for format in connlist text json csv md dot; do
  measure "matrix --format $format" "0" "$bin" matrix "$work/old" --format "$format" -o "$work/matrix.$format"
done
measure "check" "0 1" "$bin" check "$work/old"
measure "check --format json" "0 1" "$bin" check "$work/old" --format json
measure "why" "0 1" "$bin" why ns1/app1 ns2/app2 --port tcp/8080 "$work/old"
measure "why --format json" "0 1" "$bin" why ns1/app1 ns2/app2 --port tcp/8080 --format json "$work/old"
measure "diff (one Cilium policy added)" "1" "$bin" diff "$work/old" "$work/new"
echo "allowed connections: $(grep -vc '^#' "$work/matrix.connlist")"
