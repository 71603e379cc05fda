"""The single-node path's pure pieces: OCI archives, layout round trip, daemon configs, the
RayJob the kuberay backend asks for. (The node itself runs in tests/cluster.)"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import shutil
import tarfile
import tomllib
from pathlib import Path

import pytest
import yaml

from mlta.config import load_settings
from mlta.local import images, oci
from mlta.local.node import configs
from mlta.local.node.layout import NodeLayout
from mlta.specs.jobs import JobEnvelope, ResourceRef
from mlta_operator.builders import jobs


def test_oci_archive_is_a_valid_layout_with_matching_digests(tmp_path: Path) -> None:
    program = tmp_path / "prog"
    program.write_bytes(b"\x7fELF fake program")
    archive = tmp_path / "img.oci.tar"
    digest = oci.write_image(archive, "registry.k8s.io/pause:3.10.1", {"/pause": program}, ["/pause"])
    with tarfile.open(archive) as tar:
        blobs = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    for name, data in blobs.items():
        if name.startswith("blobs/sha256/"):
            assert hashlib.sha256(data).hexdigest() == name.rsplit("/", 1)[1]
    index = json.loads(blobs["index.json"])
    (entry,) = index["manifests"]
    assert entry["digest"] == digest
    assert entry["annotations"]["io.containerd.image.name"] == "registry.k8s.io/pause:3.10.1"
    manifest = json.loads(blobs["blobs/sha256/" + digest.split(":")[1]])
    config = json.loads(blobs["blobs/sha256/" + manifest["config"]["digest"].split(":")[1]])
    assert config["config"]["Entrypoint"] == ["/pause"]
    layer = blobs["blobs/sha256/" + manifest["layers"][0]["digest"].split(":")[1]]
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer).hexdigest()]
    again = tmp_path / "again.oci.tar"
    assert oci.write_image(again, "registry.k8s.io/pause:3.10.1", {"/pause": program}, ["/pause"]) == digest


def test_layout_round_trips_and_derives_addresses(tmp_path: Path) -> None:
    layout = NodeLayout(state_dir=tmp_path, netns="t", link_net=ipaddress.IPv4Network("10.213.9.0/30"),
                        service_net=ipaddress.IPv4Network("10.213.73.0/24"), apiserver_port=7443)
    layout.save()
    again = NodeLayout.load(tmp_path)
    assert again == layout
    assert (again.host_ip, again.node_ip, again.server) == ("10.213.9.1", "10.213.9.2", "https://10.213.9.2:7443")
    assert (again.kubernetes_service_ip, again.dns_ip) == ("10.213.73.1", "10.213.73.10")


def test_daemon_configs_fit_this_machine_kind(tmp_path: Path) -> None:
    layout = NodeLayout(state_dir=tmp_path)
    configs.write_all(layout)
    containerd = tomllib.loads((layout.run_dir / "containerd" / "config.toml").read_text())
    cri = containerd["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["restrict_oom_score_adj"] and cri["disable_apparmor"] and cri["netns_mounts_under_state_dir"]
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is False
    assert str(layout.run_dir) in cri["containerd"]["runtimes"]["runc"]["options"]["Root"]
    kubelet = yaml.safe_load((layout.run_dir / "kubelet.yaml").read_text())
    assert kubelet["cgroupDriver"] == "cgroupfs"
    assert kubelet["failCgroupV1"] is False and kubelet["failSwapOn"] is False
    assert kubelet["clusterDNS"] == [layout.dns_ip] and kubelet["cgroupRoot"] == "/mlta-node"
    for key in ("podLogsDir", "volumePluginDir", "resolvConf"):
        assert kubelet[key].startswith(str(layout.run_dir))
    proxy = yaml.safe_load((layout.run_dir / "kube-proxy.yaml").read_text())
    assert proxy["conntrack"]["maxPerCore"] == 0 and proxy["clusterCIDR"] == str(layout.pod_net)
    cni = json.loads((layout.run_dir / "cni" / "net.d" / "10-mlta.conflist").read_text())
    assert cni["plugins"][0]["ipam"]["ranges"][0][0]["subnet"] == str(layout.pod_net)


def test_image_keys_follow_their_inputs() -> None:
    key = images.dockerfile_key("ray")
    assert key == images.dockerfile_key("ray") and key != images.dockerfile_key("operator")
    assert images.DOCKERFILE_REFS["ray"] == "docker.io/mlta/ray:0.1.0"


def test_a_source_change_rebuilds_the_images_that_copy_it_and_no_other(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for rel in ("images", ".dockerignore", "pyproject.toml", "README.md", "config"):
        src = images.REPO / rel
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / rel)
    for pkg in ("workloads/mlta", "operator/mlta_operator"):
        (tmp_path / pkg).mkdir(parents=True)
        (tmp_path / pkg / "__init__.py").write_text("")
    monkeypatch.setattr(images, "REPO", tmp_path)
    before = {name: images.dockerfile_key(name) for name in images.DOCKERFILE_REFS}
    (tmp_path / "workloads/mlta/__init__.py").write_text("VERSION = 2\n")
    after = {name: images.dockerfile_key(name) for name in images.DOCKERFILE_REFS}
    assert [n for n in before if before[n] != after[n]] == ["operator", "ray"]
    (tmp_path / "images/s3/Dockerfile").write_text("FROM scratch\n")
    assert images.dockerfile_key("s3") != after["s3"]


def test_rayjob_asks_for_what_the_settings_size() -> None:
    settings = load_settings(env="testing", environ={
        "MLTA_KUBERAY__HEAD_CPU": "250m", "MLTA_KUBERAY__HEAD_NUM_CPUS": "2",
        "MLTA_KUBERAY__WORKER_REPLICAS": "0", "MLTA_KUBERAY__STORAGE_SECRET": "lake",
        "MLTA_KUBERAY__JOB_DEADLINE_SECONDS": "600", "MLTA_KUBERAY__IMAGE_PULL_POLICY": "Never"})
    body = {"metadata": {"name": "dp", "namespace": "ns", "uid": "u1", "generation": 1}, "spec": {}}
    envelope = JobEnvelope(resource=ResourceRef(kind="DataPipeline", namespace="ns", name="dp", uid="u1",
                                                generation=1),
                           spec={}, storage_uri="s3://lake/x", correlation_id="c", submission_id="sid")
    spec = jobs.rayjob_manifest(envelope, body, settings, "mlta.io/v1alpha1")["spec"]
    head = spec["rayClusterSpec"]["headGroupSpec"]
    (container,) = head["template"]["spec"]["containers"]
    assert head["rayStartParams"]["num-cpus"] == "2" and "workerGroupSpecs" not in spec["rayClusterSpec"]
    assert container["resources"]["requests"]["cpu"] == "250m"
    assert container["resources"]["limits"] == {"memory": container["resources"]["requests"]["memory"]}
    assert container["envFrom"] == [{"secretRef": {"name": "lake"}}]
    assert container["imagePullPolicy"] == "Never"
    submitter = spec["submitterPodTemplate"]["spec"]
    assert "envFrom" not in submitter["containers"][0] and submitter["restartPolicy"] == "Never"
    assert spec["activeDeadlineSeconds"] == 600 and spec["submissionMode"] == "K8sJobMode"
