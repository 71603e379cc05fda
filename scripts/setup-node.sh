#!/usr/bin/env bash
# Host packages of the single-node path, all from Debian: containerd, runc and the CNI plugins
# (the node's runtime), iptables + conntrack (kube-proxy, kubelet), buildah + mmdebstrap (the
# OCI builder and the local base image), util-linux's nsenter/unshare, gcc (the pause image).
# Idempotent: apt is only called when something is missing. Installing never starts a daemon:
# the node runs its own containerd with private state (python -m mlta.local node up).
set -euo pipefail
need=()
for pair in containerd:containerd runc:runc /usr/lib/cni/bridge:containernetworking-plugins \
            iptables:iptables conntrack:conntrack buildah:buildah mmdebstrap:mmdebstrap \
            nsenter:util-linux gcc:gcc ip:iproute2 newuidmap:uidmap; do
  probe=${pair%%:*} pkg=${pair#*:}
  if [[ $probe == /* ]]; then [[ -e $probe ]] || need+=("$pkg")
  else command -v "$probe" >/dev/null || need+=("$pkg"); fi
done
if (( ${#need[@]} == 0 )); then
  echo "[node-setup] host packages present"
  exit 0
fi
[[ $(id -u) == 0 ]] || { echo "[node-setup] error: installing ${need[*]} needs root (sudo $0)"; exit 2; }
echo "[node-setup] installing from Debian: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d exit 101: package scripts must not start containerd on the host's default socket.
restore=""
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  restore=1
fi
trap '[[ -n $restore ]] && rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "[node-setup] installed: $(dpkg-query -W -f='${Package} ${Version}, ' containerd runc containernetworking-plugins buildah mmdebstrap)"
