"""A real single-node Kubernetes built here: the production path without a cloud.

kube-apiserver, etcd, kube-controller-manager, kube-scheduler, kubelet and kube-proxy (one
Kubernetes module version), containerd + runc + the CNI plugins from Debian, all inside a
network namespace of the node's own, joined to the host by a veth pair. ``up`` builds what is
missing, ``down`` undoes every host change, ``status`` says what runs.
"""
