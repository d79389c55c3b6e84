#!/usr/bin/env bash
# Kubernetes policy benchmark, in one run on the same generated inputs, one core each
# (taskset -c 0), wall time and peak RSS of the whole process (GNU time):
#   a. 10,000 pods in 1,000 Deployments, 2,000 policies: `netdoctor matrix` writing the
#      full workload matrix (median of RUNS runs; target <= 1 s and <= 500 MB), against
#      the naive evaluation (every workload pair x every policy, the `naive_matrix`
#      example) and Network Config Analyzer (`nca`, bounded by NCA_TIMEOUT);
#   b. 100,000 pods in 10,000 Deployments, 10,000 policies: `netdoctor diff` of two
#      versions differing in one policy (median of DIFF_RUNS runs; target <= 30 s);
#   c. 500 bare pods, 100 policies: `netdoctor matrix` against `nca` (target: netdoctor
#      at least 100 times faster).
# Needs GNU time (/usr/bin/time) and `nca` (pip install network-config-analyzer==2.1.0).
# Inputs and outputs go to BENCH_DIR (default: a temporary directory, removed on exit).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/netdoctor-target}"
runs="${RUNS:-5}"
diff_runs="${DIFF_RUNS:-3}"
nca_timeout="${NCA_TIMEOUT:-600}"
naive_timeout="${NAIVE_TIMEOUT:-600}"
nd_timeout="${ND_TIMEOUT:-120}"
if [ -n "${BENCH_DIR:-}" ]; then
  work="$BENCH_DIR"
  mkdir -p "$work"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi

[ -x /usr/bin/time ] || { echo "GNU time is not installed (apt-get install time)" >&2; exit 2; }
command -v nca >/dev/null 2>&1 || { echo "nca is not installed (pip install network-config-analyzer==2.1.0)" >&2; exit 2; }

# Arithmetic on decimals: calc "EXPR".
calc() { awk "BEGIN { print $1 }"; }
# Median of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# measure NAME TIMEOUT OK_CODES CMD...: one run on core 0 under `timeout`; appends
# "wall_seconds max_rss_kb cpu_seconds" to $work/NAME.runs, or "timeout" when it ran out of time.
# OK_CODES lists the exit codes that count as success (diff exits 1 on changes).
measure() {
  local name="$1" limit="$2" ok="$3" code=0
  shift 3
  taskset -c 0 /usr/bin/time -f "%e %M %U %S" -o "$work/$name.time" timeout -k 5 "$limit" "$@" \
    >"$work/$name.stdout" 2>"$work/$name.stderr" || code=$?
  if [ "$code" -eq 124 ] || [ "$code" -eq 137 ]; then
    echo timeout >> "$work/$name.runs"
  elif [[ " $ok " == *" $code "* ]]; then
    tail -1 "$work/$name.time" | awk '{ print $1, $2, $3 + $4 }' >> "$work/$name.runs"
  else
    echo "$name exited $code:" >&2
    tail -20 "$work/$name.stderr" >&2
    exit 1
  fi
}

# summary NAME LIMIT: "median wall s (median CPU s), peak MB" over the runs, or
# "> LIMIT s (timed out)". CPU time (user + system) says what the run cost when other
# processes share the core.
summary() {
  local name="$1" limit="$2"
  if grep -q timeout "$work/$name.runs"; then
    printf '> %s s (timed out)' "$limit"
    return
  fi
  local s cpu mb
  s=$(cut -d' ' -f1 "$work/$name.runs" | median)
  cpu=$(cut -d' ' -f3 "$work/$name.runs" | median)
  mb=$(cut -d' ' -f2 "$work/$name.runs" | sort -g | tail -1)
  printf '%.2f s (CPU %.2f s), %.0f MB' "$s" "$cpu" "$(calc "$mb / 1024")"
}
# seconds NAME LIMIT: median wall time, or LIMIT when it timed out.
seconds() { if grep -q timeout "$work/$1.runs"; then echo "$2"; else cut -d' ' -f1 "$work/$1.runs" | median; fi; }
nca_version=$(nca --version 2>&1 | grep -m1 -o '[0-9][0-9.]*' || true)

# 1. Release binaries and the inputs.
cargo build --release --quiet -p netdoctor-cli --bin netdoctor --example generate_cluster --example naive_matrix
bin="$CARGO_TARGET_DIR/release"
netdoctor="$bin/netdoctor"
gen="$bin/examples/generate_cluster"
rm -rf "$work/a" "$work/b-old" "$work/b-new" "$work/c" "$work"/*.runs
"$gen" 10000 1000 2000 --out "$work/a"
"$gen" 100000 10000 10000 --out "$work/b-old"
"$gen" 100000 10000 10000 --changed --out "$work/b-new"
mkdir -p "$work/c"
"$gen" 500 100 100 --bare-pods > "$work/c/cluster.yaml"
echo "nca $nca_version, inputs in $work; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# 2a. 10,000 pods: netdoctor, naive, nca.
for _ in $(seq 1 "$runs"); do
  measure a-netdoctor "$nd_timeout" 0 "$netdoctor" matrix "$work/a" --format connlist -o "$work/a-netdoctor.txt"
done
a_pairs=$(grep -c '\[Deployment\] => .*\[Deployment\]' "$work/a-netdoctor.txt" || true)
echo "a. netdoctor matrix: $(summary a-netdoctor "$nd_timeout") (median of $runs), $(wc -l < "$work/a-netdoctor.txt") lines, $a_pairs workload pairs"
measure a-naive "$naive_timeout" 0 "$bin/examples/naive_matrix" "$work/a" -o "$work/a-naive.txt"
echo "a. naive: $(summary a-naive "$naive_timeout")$([ -f "$work/a-naive.txt" ] && echo ", $(wc -l < "$work/a-naive.txt") workload pairs")"
measure a-nca "$nca_timeout" 0 nca --connectivity -r "$work/a" -o txt_no_fw_rules --return_0 -f "$work/a-nca.txt"
echo "a. nca: $(summary a-nca "$nca_timeout")"

# 2b. 100,000 pods: diff of two versions.
for _ in $(seq 1 "$diff_runs"); do
  measure b-diff "$nd_timeout" "0 1" "$netdoctor" diff "$work/b-old" "$work/b-new"
done
echo "b. netdoctor diff: $(summary b-diff "$nd_timeout") (median of $diff_runs), $(grep -c '^[+-]' "$work/b-diff.stdout" || true) changed lines"

# 2c. 500 bare pods: netdoctor against nca.
for _ in $(seq 1 "$runs"); do
  measure c-netdoctor "$nd_timeout" 0 "$netdoctor" matrix "$work/c" --format connlist -o "$work/c-netdoctor.txt"
done
measure c-nca "$nca_timeout" 0 nca --connectivity -r "$work/c/cluster.yaml" -o txt_no_fw_rules --return_0 -f "$work/c-nca.txt"
c_nd=$(seconds c-netdoctor "$nd_timeout")
c_nca=$(seconds c-nca "$nca_timeout")
ratio=$(calc "$c_nca / $c_nd")
echo "c. netdoctor matrix: $(summary c-netdoctor "$nd_timeout") (median of $runs); nca: $(summary c-nca "$nca_timeout")"
echo "c. netdoctor is $(printf '%.0f' "$ratio") times faster$(grep -q timeout "$work/c-nca.runs" && echo ' (at least: nca timed out)') (target >= 100)"

cat <<EOF

load average after: $(cut -d' ' -f1-3 /proc/loadavg)

| input | netdoctor | naive (pairs x policies) | nca $nca_version |
|---|---|---|---|
| 10,000 pods / 1,000 Deployments / 2,000 policies, full matrix | $(summary a-netdoctor "$nd_timeout") | $(summary a-naive "$naive_timeout") | $(summary a-nca "$nca_timeout") |
| 100,000 pods / 10,000 Deployments / 10,000 policies, diff of one changed policy | $(summary b-diff "$nd_timeout") | | |
| 500 bare pods / 100 policies, full matrix | $(summary c-netdoctor "$nd_timeout") | | $(summary c-nca "$nca_timeout") ($(printf '%.0f' "$ratio")x) |
EOF
