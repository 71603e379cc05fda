"""Small Kubernetes API helpers on the official client (in-cluster or KUBECONFIG)."""

from __future__ import annotations

import functools
import os
from typing import Any, NamedTuple, Protocol

from mlta.errors import BackendError
from mlta.specs import API_GROUP, API_VERSION, KINDS

PLURALS = {kind: spec.kind_info.plural for kind, (spec, _) in KINDS.items()}
OWNER_API_VERSION = f"{API_GROUP}/{API_VERSION}"


@functools.cache
def api_client() -> Any:
    from kubernetes import client, config

    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        # KUBECONFIG as it is now: the client library reads it once, when it is first imported.
        config.load_kube_config(config_file=os.environ.get("KUBECONFIG"))  # type: ignore[no-untyped-call]
    api = client.ApiClient()
    if not api.configuration.verify_ssl:
        # The kubeconfig itself asked for no verification (the local control plane); say it
        # once at start-up instead of a warning per request.
        import logging

        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        logging.getLogger(__name__).warning("TLS verification is off for %s (kubeconfig setting)",
                                            api.configuration.host)
    return api


def custom_objects() -> Any:
    from kubernetes import client

    return client.CustomObjectsApi(api_client())


def get_resource(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    """The CR, or None when it does not exist."""
    from kubernetes.client.exceptions import ApiException

    try:
        obj: dict[str, Any] = custom_objects().get_namespaced_custom_object(
            API_GROUP, API_VERSION, namespace, PLURALS[kind], name)
        return obj
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise BackendError(f"reading {kind} {namespace}/{name} failed: {exc.reason}") from exc


def patch_status(kind: str, namespace: str, name: str, status: dict[str, Any]) -> dict[str, Any]:
    """Merge-patch the status subresource now; returns the object as the API server stored it."""
    from kubernetes.client.exceptions import ApiException

    try:
        obj: dict[str, Any] = custom_objects().patch_namespaced_custom_object_status(
            API_GROUP, API_VERSION, namespace, PLURALS[kind], name, {"status": status})
        return obj
    except ApiException as exc:
        raise BackendError(f"patching {kind} {namespace}/{name} status failed: {exc.reason}") from exc


def core() -> Any:
    from kubernetes import client

    return client.CoreV1Api(api_client())


def list_pods(namespace: str, selector: str) -> list[Any]:
    """Pods matching a label selector (newest first)."""
    from kubernetes.client.exceptions import ApiException

    try:
        pods = core().list_namespaced_pod(namespace, label_selector=selector).items
    except ApiException as exc:
        raise BackendError(f"listing pods {selector} in {namespace} failed: {exc.reason}",
                           hint="the operator's role needs pods get/list") from exc
    return sorted(pods, key=lambda p: p.metadata.creation_timestamp, reverse=True)


def pod_log(namespace: str, name: str, container: str | None = None) -> str:
    from kubernetes.client.exceptions import ApiException

    try:
        text: str = core().read_namespaced_pod_log(name, namespace, container=container)
        return text
    except ApiException as exc:
        if exc.status in (400, 404):  # not started yet / gone
            return ""
        raise BackendError(f"reading the log of pod {namespace}/{name} failed: {exc.reason}",
                           hint="the operator's role needs pods/log get") from exc


class Ref(NamedTuple):
    """One mlta resource: what a CR depends on, and the key its wake-ups are filed under."""

    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, body: Any) -> Ref:
        meta = body["metadata"]
        return cls(str(body["kind"]), str(meta["namespace"]), str(meta["name"]))

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


class Cluster(Protocol):
    """What reconciliation reads from and writes to Kubernetes (the real API or a test's fake)."""

    def get_resource(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The CR, or None when it does not exist."""

    def patch_status(self, kind: str, namespace: str, name: str,
                     status: dict[str, Any]) -> dict[str, Any]:
        """Merge-patch status; return the stored object."""


class KubeCluster:
    """:class:`Cluster` on the official client (in-cluster config or KUBECONFIG)."""

    def get_resource(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return get_resource(kind, namespace, name)

    def patch_status(self, kind: str, namespace: str, name: str,
                     status: dict[str, Any]) -> dict[str, Any]:
        return patch_status(kind, namespace, name, status)
