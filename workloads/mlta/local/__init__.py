"""The embedded default: a local Kubernetes control plane and a local Ray head on one machine.

``python -m mlta.local up`` builds (once, cached) and starts kube-apiserver + etcd on loopback,
installs the mlta and KubeRay CRDs, and starts a Ray head; ``down`` stops everything.
"""
