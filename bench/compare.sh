#!/usr/bin/env bash
# Same-run comparison on one core: netdoctor against compose-lint (PyPI) on the
# benchmark's generated project (200 services, 50 networks). Prints median wall times.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/netdoctor-target}"
work="${BENCH_DIR:-/var/tmp/netdoctor-bench}"
runs="${RUNS:-20}"
mkdir -p "$work"

cargo build --release --quiet -p netdoctor-cli --bin netdoctor --example generate_project
"$CARGO_TARGET_DIR/release/examples/generate_project" 200 50 > "$work/compose.yaml"

if [ ! -x "$work/venv/bin/compose-lint" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet compose-lint
fi

python3 - "$work" "$runs" "$CARGO_TARGET_DIR/release/netdoctor" <<'PY'
import statistics, subprocess, sys, time
work, runs, netdoctor = sys.argv[1], int(sys.argv[2]), sys.argv[3]
file = f"{work}/compose.yaml"
tools = {
    "netdoctor check": ["taskset", "-c", "0", netdoctor, "check", file, "--format", "json", "-o", "/dev/null"],
    "compose-lint": ["taskset", "-c", "0", f"{work}/venv/bin/compose-lint", file],
}
version = subprocess.run([f"{work}/venv/bin/pip", "show", "compose-lint"], capture_output=True, text=True).stdout
print("compose-lint", next((l.split()[1] for l in version.splitlines() if l.startswith("Version")), "?"))
for name, cmd in tools.items():
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
    print(f"{name:16} median {statistics.median(times):8.1f} ms  min {min(times):8.1f} ms  ({runs} runs, 1 core)")
PY
