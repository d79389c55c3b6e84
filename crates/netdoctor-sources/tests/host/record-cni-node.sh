#!/usr/bin/env bash
# Records `cni-bridge-portmap/`: the host facts of a Kubernetes-style node whose pod
# network is set up by the reference CNI plugins (Debian's containernetworking-plugins),
# called the way a container runtime calls them: `bridge` (cni0, host-local IPAM
# 10.244.0.0/24, ipMasq), then `firewall` and `portmap` (hostPort 8080 -> 80) chained on
# its result, for one pod. Everything happens in two throwaway network namespaces, which
# are deleted at the end; nothing touches the host's own. Needs root, iproute2, iptables,
# nftables and containernetworking-plugins.
set -euo pipefail
out="$(cd "$(dirname "$0")" && pwd)/cni-bridge-portmap"
node=ndtcninode$$ pod=ndtcnipod$$
work=$(mktemp -d)
cleanup() { ip netns del "$node" 2>/dev/null || true; ip netns del "$pod" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ip netns add "$node"; ip netns add "$pod"
in_node() { ip netns exec "$node" "$@"; }
in_node ip link set lo up
in_node ip link add ndte0 type veth peer name ndte1
in_node ip addr add 192.0.2.10/24 dev ndte0
in_node ip link set ndte1 up
in_node ip link set ndte0 up
in_node ip route add default via 192.0.2.1 dev ndte0
in_node sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'

# The three plugins as one network configuration, which is also what the node's
# /etc/cni/net.d would hold (recorded as cni/10-k8s-pod-network.conflist).
conflist='{
  "cniVersion": "1.0.0",
  "name": "k8s-pod-network",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "firewall", "backend": "iptables"},
    {"type": "portmap", "snat": true, "capabilities": {"portMappings": true}}
  ]
}'
# A runtime hands each plugin its entry plus name, cniVersion and the previous result.
plugin_conf() {
  python3 - "$1" "$2" "$work" <<'PY'
import json, sys
conflist, index, work = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conf = dict(conflist["plugins"][index], name=conflist["name"], cniVersion=conflist["cniVersion"])
if conf["type"] == "bridge":
    conf["ipam"]["dataDir"] = work + "/ipam"
if conf["type"] == "portmap":
    conf["runtimeConfig"] = {"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]}
if index > 0:
    conf["prevResult"] = json.load(open(work + "/result.json"))
print(json.dumps(conf))
PY
}
for i in 0 1 2; do
  type=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["plugins"][int(sys.argv[2])]["type"])' "$conflist" "$i")
  plugin_conf "$conflist" "$i" | in_node env CNI_COMMAND=ADD CNI_CONTAINERID=pod-web-1 CNI_NETNS="/run/netns/$pod" \
    CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "/usr/lib/cni/$type" > "$work/next.json"
  mv "$work/next.json" "$work/result.json"
done

rm -rf "$out"; mkdir -p "$out/cni"
printf '%s\n' "$conflist" > "$out/cni/10-k8s-pod-network.conflist"
in_node iptables-nft-save > "$out/iptables-nft-save.txt"
in_node ip6tables-nft-save > "$out/ip6tables-nft-save.txt"
in_node nft list tables > "$out/nft-tables.txt"
in_node ip -j -d link show > "$out/ip-link.json"
in_node ip -j addr show > "$out/ip-addr.json"
in_node ip -j -4 route show table all > "$out/ip-route.json"
in_node ip -j -6 route show table all > "$out/ip6-route.json"
{
  echo "net.ipv4.ip_forward = $(in_node cat /proc/sys/net/ipv4/ip_forward)"
  f=/proc/sys/net/bridge/bridge-nf-call-iptables
  if [ -r "$f" ]; then echo "net.bridge.bridge-nf-call-iptables = $(cat "$f")"; fi
} > "$out/sysctl.txt"
echo "recorded $out"
