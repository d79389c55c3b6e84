#!/usr/bin/env bash
# Live Docker benchmark (issue 5), in one run on the real engine:
#   1. `netdoctor check --docker` with 100 running containers (median of RUNS runs; target < 1 s);
#   2. `netdoctor probe -p PROJECT` over 20 of them (380 ordered pairs) against the same
#      checks scripted by hand: `docker inspect` for the addresses, then per pair
#      `docker exec ping`, `docker exec nslookup` and a TCP connect with `docker exec nc`
#      (target: probe at least 10 times faster).
# Needs root (probes enter the containers' network namespaces) and a static busybox
# (Debian package busybox-static). The test image is imported from it, as in
# crates/netdoctor-cli/tests/docker_live.rs: no registry. Everything it makes is named
# ndtb-<run>-..., labelled ndtb.bench=<run>, and removed on exit, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/netdoctor-target}"
containers="${CONTAINERS:-100}"
networks="${NETWORKS:-4}"
probed="${PROBED:-20}"
runs="${RUNS:-10}"
probe_runs="${PROBE_RUNS:-5}"
run="ndtb-$(date +%s)-$$"
image="$run-busybox:1"
project="$run-proj"
work="$(mktemp -d)"

cleanup() {
  trap - EXIT INT TERM
  echo "cleanup: removing the $run containers, networks and image" >&2
  docker ps -aq --filter "label=ndtb.bench=$run" | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker network ls -q --filter "label=ndtb.bench=$run" | xargs -r docker network rm >/dev/null 2>&1 || true
  docker image rm -f "$image" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
# Arithmetic on decimals: calc "EXPR".
calc() { awk "BEGIN { print $1 }"; }
# Median of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# 1. The release binary and the test image.
cargo build --release --quiet -p netdoctor-cli --bin netdoctor
netdoctor="$CARGO_TARGET_DIR/release/netdoctor"
busybox=""
for b in /bin/busybox /usr/bin/busybox; do
  if [ -x "$b" ]; then busybox="$b"; break; fi
done
[ -n "$busybox" ] || { echo "busybox is not installed (apt-get install busybox-static)" >&2; exit 2; }
if head -c 65536 "$busybox" | grep -qa ld-linux; then
  echo "$busybox is dynamically linked: install busybox-static" >&2
  exit 2
fi
mkdir -p "$work/root/bin" "$work/root/tmp"
cp "$busybox" "$work/root/bin/busybox"
for applet in sh sleep httpd nc ping nslookup timeout true; do
  ln -s busybox "$work/root/bin/$applet"
done
tar -C "$work/root" -c . | docker import -c 'CMD ["/bin/sleep", "3600"]' - "$image" >/dev/null

# 2. The containers: $containers in all, spread over $networks user networks. The first
# $probed, on the first network, are one Compose-like project of httpd servers on port 80;
# the rest alternate between `sleep` and httpd. `--dns 127.0.0.1` keeps every lookup on
# this host: the embedded DNS answers the containers' names, and forwards nothing outside.
for n in $(seq 1 "$networks"); do
  docker network create --label "ndtb.bench=$run" "$run-n$n" >/dev/null
done
start_container() {
  local i="$1" name net
  name=$(printf '%s-c%03d' "$run" "$i")
  local args=(run -d --name "$name" --label "ndtb.bench=$run" --dns 127.0.0.1)
  if [ "$i" -le "$probed" ]; then
    args+=(--network "$run-n1" --expose 80 --label "com.docker.compose.project=$project"
      --label "com.docker.compose.service=$(printf 's%03d' "$i")" "$image" httpd -f -p 80 -h /tmp)
  else
    net=$(( (i - probed - 1) % networks + 1 ))
    args+=(--network "$run-n$net")
    if [ $(( i % 2 )) -eq 0 ]; then args+=("$image" sleep 3600); else args+=(--expose 80 "$image" httpd -f -p 80 -h /tmp); fi
  fi
  # stderr kept for failures only: every run warns about the loopback resolver.
  timeout 60 docker "${args[@]}" >/dev/null 2>"$work/$name.err" || { cat "$work/$name.err" >&2; return 1; }
}
started=$(now)
for i in $(seq 1 "$containers"); do
  start_container "$i" &
  if [ $(( i % 4 )) -eq 0 ]; then wait; fi
done
wait
running=$(docker ps -q --filter "label=ndtb.bench=$run" --filter status=running | wc -l)
printf 'started %d containers on %d networks in %.1f s\n' "$running" "$networks" "$(calc "$(now) - $started")"
if [ "$running" -ne "$containers" ]; then
  echo "only $running of $containers containers are running" >&2
  exit 1
fi
total=$(docker ps -q | wc -l)

# 3. `check --docker` over the whole engine (exit 1 only means findings).
check_times="$work/check.txt"
for _ in $(seq 1 "$runs"); do
  t0=$(now)
  code=0
  "$netdoctor" check --docker --format json -o "$work/check.json" || code=$?
  t1=$(now)
  [ "$code" -le 1 ] || { echo "netdoctor check --docker exited $code" >&2; exit 1; }
  calc "$t1 - $t0" >> "$check_times"
done
check_s=$(median < "$check_times")
printf 'check --docker, %d running containers: median %.3f s, min %.3f s (%d runs; target < 1 s)\n' \
  "$total" "$check_s" "$(sort -g "$check_times" | head -1)" "$runs"

# 4a. `probe` over the project (exit 1 only means live behaviour differs from the configuration).
probe_times="$work/probe.txt"
for _ in $(seq 1 "$probe_runs"); do
  t0=$(now)
  code=0
  "$netdoctor" probe -p "$project" --format json > "$work/probe.json" || code=$?
  t1=$(now)
  [ "$code" -le 1 ] || { echo "netdoctor probe exited $code" >&2; exit 1; }
  calc "$t1 - $t0" >> "$probe_times"
done
probe_s=$(median < "$probe_times")
read -r pairs probes reached resolved differences < <(jq -r '[(.pairs | length), .probes,
  ([.pairs[] | select(.reached == true)] | length), ([.pairs[] | select(.resolved == true)] | length),
  ([.pairs[] | .differences[]] | length)] | @tsv' "$work/probe.json")
printf 'probe -p PROJECT, %d containers: %d pairs, %d probes, median %.3f s (%d runs); reached %d, resolved %d, differences %d\n' \
  "$probed" "$pairs" "$probes" "$probe_s" "$probe_runs" "$reached" "$resolved" "$differences"
[ "$pairs" -eq $(( probed * (probed - 1) )) ] || { echo "expected $(( probed * (probed - 1) )) pairs" >&2; exit 1; }

# 4b. The same checks scripted: addresses from `docker inspect`, then for every ordered pair
# ping, nslookup and a TCP connect to port 80 (busybox nc has no -z: it connects, sends
# nothing and closes). Every exec is bounded by `timeout`.
mapfile -t names < <(docker ps --filter "label=com.docker.compose.project=$project" --format '{{.Names}}' | sort)
declare -A ip
ok_ping=0 ok_dns=0 ok_tcp=0
t0=$(now)
for c in "${names[@]}"; do
  ip[$c]=$(timeout 10 docker inspect -f "{{(index .NetworkSettings.Networks \"$run-n1\").IPAddress}}" "$c")
done
for a in "${names[@]}"; do
  for b in "${names[@]}"; do
    [ "$a" != "$b" ] || continue
    if timeout 5 docker exec "$a" ping -c1 -W1 "${ip[$b]}" >/dev/null 2>&1; then ok_ping=$((ok_ping + 1)); fi
    if timeout 5 docker exec "$a" nslookup "$b" >/dev/null 2>&1; then ok_dns=$((ok_dns + 1)); fi
    if timeout 5 docker exec "$a" timeout 2 nc -w1 "${ip[$b]}" 80 </dev/null >/dev/null 2>&1; then ok_tcp=$((ok_tcp + 1)); fi
  done
done
t1=$(now)
loop_s=$(calc "$t1 - $t0")
printf 'scripted docker inspect + docker exec loop: %d pairs, %d execs, %.1f s; ping ok %d, nslookup ok %d, nc ok %d\n' \
  "$pairs" $(( pairs * 3 )) "$loop_s" "$ok_ping" "$ok_dns" "$ok_tcp"
printf 'probe is %.0f times faster than the scripted loop (target >= 10)\n' "$(calc "$loop_s / $probe_s")"
