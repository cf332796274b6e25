#!/usr/bin/env bash
# Installs the Debian packages Fovea's build and tests need, if any is missing:
# clang/llvm for the eBPF objects, bpftool for vmlinux.h, iproute2/iptables/
# ping for the network-namespace cluster, protoc for the Capture service,
# tshark to read captures back, prometheus (with promtool) for the tests of
# the Hubble metrics, containerd, runc and the CNI plugins for the
# single-node Kubernetes cluster the chart is installed on, and Wine to run
# the Windows build of the Windows source's tests (make wine-test).
set -euo pipefail
need=()
for pair in clang:clang llvm-strip:llvm bpftool:bpftool ip:iproute2 iptables:iptables ping:iputils-ping tc:iproute2 promtool:prometheus protoc:protobuf-compiler tshark:tshark containerd:containerd ctr:containerd runc:runc; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
[ -f /usr/include/bpf/bpf_helpers.h ] || need+=(libbpf-dev)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v wine64 >/dev/null 2>&1 || [ -x /usr/lib/wine/wine64 ] || need+=(wine64)
if ((${#need[@]} == 0)); then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
	echo "missing packages: ${need[*]}; run as root or: sudo apt-get install ${need[*]}" >&2
	exit 1
fi
echo "installing: ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
