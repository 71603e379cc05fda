"""``make images`` and the node's image import when a tool fails or an input is missing.

buildah, mmdebstrap and ctr are fake executables first on PATH (the real ones would build
images or talk to containerd); the fake buildah keeps its list of images in a file, so a
second build sees what the first committed. kubectl is a fake in the test's cache.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.unit.node.hostfakes import Cache, Fake, fake_exe

from mlta.errors import BackendError
from mlta.local import __main__ as cli
from mlta.local import images, oci
from mlta.local.node import addons
from mlta.local.node.layout import NodeLayout

PROGRAMS = {"pause": ("k8s-{k8s}", "pause"), "coredns": ("coredns-{coredns}", "coredns"),
            "kuberay": ("kuberay-{kuberay}", "kuberay")}


def _program(cache: Cache, name: str, content: bytes = b"\x7fELF v1") -> Path:
    folder, binary = PROGRAMS[name]
    path = cache.root / "bin" / folder.format(k8s=images.K8S_VERSION, coredns=images.COREDNS_VERSION,
                                              kuberay=images.KUBERAY_VERSION) / binary
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _buildah(on_path: Callable[[str, str], Fake], tmp_path: Path, fail: str = "") -> Fake:
    """buildah's storage as a file of image names; ``fail`` names a subcommand that errors."""
    have = tmp_path / "buildah-images.txt"
    return on_path("buildah", f"""shift 6  # --root R --runroot R --storage-driver overlay
if [ "$1" = "{fail}" ]; then echo "Error: $1: no space left on device" >&2; exit 125; fi
case "$1" in
  images) cat "{have}" 2>/dev/null || true;;
  from) echo working-container;;
  commit) echo "$4" >> "{have}";;
esac""")


def _mmdebstrap(on_path: Callable[[str, str], Fake], ok: bool = True) -> Fake:
    images.IMAGES.mkdir(parents=True, exist_ok=True)  # made by the binary images, packed first
    return on_path("mmdebstrap", 'for out; do :; done; echo rootfs > "$out"' if ok else
                   'echo "E: cannot reach deb.debian.org" >&2; exit 1')


def test_the_base_is_debootstrapped_once_and_committed(
        tmp_path: Path, cache: Cache, on_path: Callable[[str, str], Fake]) -> None:
    buildah, mmdebstrap = _buildah(on_path, tmp_path), _mmdebstrap(on_path)
    name = images.build_base()
    assert name == f"localhost/mlta-base:{images.base_key()}"
    rootfs = images.IMAGES / f"base-{images.base_key()}.rootfs.tar"
    assert rootfs.read_text() == "rootfs\n" and not Path(f"{rootfs}.tmp").exists()
    verbs = [call.split()[6] for call in buildah.calls()]
    assert verbs == ["images", "from", "add", "config", "commit", "rm"]
    assert buildah.calls()[2].endswith(f"add working-container {rootfs} /")
    assert buildah.calls()[4].endswith(f"commit -q working-container {name}")
    assert images.build_base() == name  # the committed base is found, nothing is made again
    assert len(mmdebstrap.calls()) == 1 and len(buildah.calls()) == 7


def test_a_failed_debootstrap_leaves_no_rootfs(tmp_path: Path, cache: Cache,
                                               on_path: Callable[[str, str], Fake]) -> None:
    buildah = _buildah(on_path, tmp_path)
    _mmdebstrap(on_path, ok=False)
    with pytest.raises(BackendError, match=re.escape("mmdebstrap failed: E: cannot reach deb.debian.org")
                       ) as caught:
        images.build_base()
    assert caught.value.hint == "needs root and Debian's package mirror"
    assert list(images.IMAGES.iterdir()) == []
    assert [call.split()[6] for call in buildah.calls()] == ["images"]


def test_a_failed_commit_still_removes_the_working_container(
        tmp_path: Path, cache: Cache, on_path: Callable[[str, str], Fake]) -> None:
    buildah = _buildah(on_path, tmp_path, fail="commit")
    _mmdebstrap(on_path)
    with pytest.raises(BackendError, match="buildah commit failed: Error: commit: no space left") as caught:
        images.build_base()
    assert "scripts/setup-node.sh" in str(caught.value.hint)
    assert buildah.calls()[-1].endswith("rm working-container")
    assert (images.IMAGES / f"base-{images.base_key()}.rootfs.tar").exists()  # kept for the retry


@pytest.mark.parametrize("warm_rc", [0, 3])
def test_the_ray_image_build_is_lent_the_hosts_warmed_kernel_cache(
        warm_rc: int, tmp_path: Path, cache: Cache, on_path: Callable[[str, str], Fake],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    buildah = on_path("buildah", """shift 6
case "$1" in
  push) out="${4#oci-archive:}"; echo image > "${out%%:*}";;
esac""")
    warm = on_path("warm", f"exit {warm_rc}")
    monkeypatch.setattr(images, "WARM_COMMAND", [str(warm.path)])
    monkeypatch.setattr(images, "build_base", lambda: "localhost/mlta-base:k")
    images.IMAGES.mkdir(parents=True)
    image = images.build_dockerfile("ray")
    assert image.archive.read_text() == "image\n" and len(warm.calls()) == 1
    bud = next(c for c in buildah.calls() if " bud " in c)
    assert f"--volume {cache.root / 'numba'}:/run/mlta-kernel-cache:ro" in bud
    out = capsys.readouterr().out
    assert ("the image build compiles the kernels itself" in out) == (warm_rc != 0)
    capsys.readouterr()
    images.build_dockerfile("operator")  # no kernels there: nothing lent, nothing warmed
    assert len(warm.calls()) == 1
    assert "--volume " + str(cache.root / "numba") not in buildah.calls()[-2]


def test_a_missing_program_names_the_build_script(cache: Cache) -> None:
    _program(cache, "pause")
    with pytest.raises(BackendError, match=r"coredns-v[\d.]+/coredns is missing") as caught:
        images.binary_images()
    assert caught.value.hint == "run scripts/build-node.sh"


def test_programs_are_packed_once_per_content(cache: Cache, capsys: pytest.CaptureFixture[str]) -> None:
    for name in PROGRAMS:
        _program(cache, name)
    first = images.binary_images()
    assert [i.name for i in first] == ["pause", "coredns", "kuberay"]
    assert capsys.readouterr().out.count(": packed ") == 3
    with tarfile.open(first[0].archive) as tar:
        index = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
    assert index["manifests"][0]["annotations"]["io.containerd.image.name"] == first[0].ref
    stamps = [i.archive.stat().st_mtime_ns for i in first]
    assert images.binary_images() == first and [i.archive.stat().st_mtime_ns for i in first] == stamps
    assert ": packed " not in capsys.readouterr().out
    _program(cache, "pause", b"\x7fELF v2")
    assert images.binary_images(("pause",))[0].archive != first[0].archive


def _cached_dockerfile_images() -> None:
    images.IMAGES.mkdir(parents=True, exist_ok=True)
    for name in images.DOCKERFILE_REFS:
        (images.IMAGES / f"{name}-{images.dockerfile_key(name)}.oci.tar").write_bytes(b"oci" * 1000)


@pytest.mark.parametrize("command", [lambda: cli.main(["images"]), images.main],
                         ids=["python -m mlta.local images", "python -m mlta.local.images"])
def test_images_lists_every_image_and_the_index_names_them(
        cache: Cache, capsys: pytest.CaptureFixture[str], command: Callable[[], int]) -> None:
    assert images.current() == []  # before the first build
    for name in PROGRAMS:
        _program(cache, name)
    _cached_dockerfile_images()
    assert command() == 0
    listed = [line.split() for line in capsys.readouterr().out.splitlines() if not line.startswith("[")]
    built = images.current()
    assert [[i.ref, str(i.archive)] for i in built] == listed
    assert [i.name for i in built] == ["pause", "coredns", "kuberay", "operator", "ray", "s3"]
    next(i for i in built if i.name == "s3").archive.unlink()
    assert [i.name for i in images.current()] == ["pause", "coredns", "kuberay", "operator", "ray"]


@pytest.mark.parametrize("command", [lambda: cli.main(["images"]), images.main],
                         ids=["python -m mlta.local images", "python -m mlta.local.images"])
def test_images_fails_with_the_missing_program(cache: Cache, capsys: pytest.CaptureFixture[str],
                                               command: Callable[[], int]) -> None:
    assert command() == 1
    captured = capsys.readouterr()
    assert f"error: {cache.k8s_bin / 'pause'} is missing (run scripts/build-node.sh)" in (
        captured.out + captured.err)
    assert not (images.IMAGES / "index.json").exists()


def test_images_module_as_a_program_exits_1_on_a_missing_program(tmp_path: Path) -> None:
    env = dict(os.environ, MLTA_CACHE_DIR=str(tmp_path))
    res = subprocess.run([sys.executable, "-m", "mlta.local.images"], capture_output=True, text=True,
                         env=env, cwd=images.REPO, timeout=120)
    assert res.returncode == 1, res.stderr
    assert f"error: {tmp_path}/bin/k8s-{images.K8S_VERSION}/pause is missing" in res.stdout


def test_a_layer_holds_each_parent_directory_once_before_its_files(tmp_path: Path) -> None:
    program = tmp_path / "prog"
    program.write_bytes(b"\x7fELF")
    archive = tmp_path / "img.oci.tar"
    digest = oci.write_image(archive, "example.test/app:1", {"/usr/local/bin/prog": program,
                                                              "/usr/local/etc/app.yaml": b"a: 1\n",
                                                              "/etc/app/conf": b"x"}, ["/usr/local/bin/prog"])
    with tarfile.open(archive) as tar:
        blobs = {m.name.rsplit("/", 1)[-1]: tar.extractfile(m).read()  # type: ignore[union-attr]
                 for m in tar.getmembers()}
    manifest = json.loads(blobs[digest.split(":")[1]])
    layer = blobs[manifest["layers"][0]["digest"].split(":")[1]]
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        members = [(m.name, m.isdir(), m.mode) for m in tar.getmembers()]
    names = [name for name, _, _ in members]
    assert len(names) == len(set(names))
    assert {n for n, is_dir, mode in members if is_dir and mode == 0o755} == {
        "etc", "etc/app", "usr", "usr/local", "usr/local/bin", "usr/local/etc"}
    for name in ("usr/local/bin/prog", "usr/local/etc/app.yaml", "etc/app/conf"):
        assert names.index(name.rsplit("/", 1)[0]) < names.index(name)
    modes = {n: mode for n, _, mode in members}
    assert modes["usr/local/bin/prog"] == 0o755 and modes["usr/local/etc/app.yaml"] == 0o644


def _image(tmp_path: Path, name: str, ref: str) -> images.Image:
    program = tmp_path / name
    program.write_bytes(name.encode())
    archive = tmp_path / f"{name}.oci.tar"
    oci.write_image(archive, ref, {f"/{name}": program}, [f"/{name}"])
    return images.Image(name, ref, archive)


def _ctr(on_path: Callable[[str, str], Fake], tmp_path: Path, listed: str, import_body: str) -> Fake:
    """ctr with what containerd lists (``images list``) and what an import does."""
    listing = tmp_path / "ctr-images.txt"
    listing.write_text("REF TYPE DIGEST SIZE PLATFORMS LABELS\n" + listed)
    return on_path("ctr", f"""case "$6" in
  list) cat "{listing}";;
  import) {import_body};;
esac""")


@pytest.mark.parametrize(("import_body", "says"), [
    ("echo 'ctr: content digest sha256:00: not found' >&2; exit 1", "ctr: content digest sha256:00"),
    ("echo 'unpacking registry.test/pause:1 ...done'", "unpacking registry.test/pause:1"),
], ids=["import fails", "import succeeds but the image is absent"])
def test_an_image_containerd_does_not_take_is_an_error(
        tmp_path: Path, node_layout: NodeLayout, on_path: Callable[[str, str], Fake],
        import_body: str, says: str) -> None:
    _ctr(on_path, tmp_path, "", import_body)
    image = _image(tmp_path, "pause", "registry.test/pause:1")
    with pytest.raises(BackendError, match=f"importing pause.oci.tar as registry.test/pause:1 failed: {says}"
                       ) as caught:
        addons.import_images(node_layout, [image])
    assert caught.value.hint == "rebuild it with `make images`"


def test_only_images_containerd_lacks_or_has_in_another_version_are_imported(
        tmp_path: Path, node_layout: NodeLayout, on_path: Callable[[str, str], Fake]) -> None:
    same = _image(tmp_path, "same", "registry.test/same:1")
    changed = _image(tmp_path, "new", "registry.test/new:1")
    manifest = "application/vnd.oci.image.manifest.v1+json"
    listed = (f"{same.ref} {manifest} {addons._archive_digest(same)} 1 KiB -\n"
              f"{changed.ref} {manifest} sha256:{'0' * 64} 1 KiB -\n")
    ctr = _ctr(on_path, tmp_path, listed, "exit 0")
    addons.import_images(node_layout, [same, changed])
    imports = [call for call in ctr.calls() if " images import " in call]
    assert imports == [f"--address {node_layout.containerd_socket} -n k8s.io images import "
                       f"--base-name registry.test/new {changed.archive}"]


def test_a_refused_coredns_install_names_kubectls_error(cache: Cache, node_layout: NodeLayout) -> None:
    _program(cache, "coredns")
    applied = cache.root / "applied.yaml"
    fake_exe(cache.k8s_bin / "kubectl",
             f'cat > "{applied}"; echo \'error: no matches for kind "Deployment"\' >&2; exit 1')
    with pytest.raises(BackendError, match='CoreDNS failed: error: no matches for kind "Deployment"'):
        addons.install_dns(node_layout)
    sent = applied.read_text()
    assert f"clusterIP: {node_layout.dns_ip}" in sent
    assert f"image: registry.k8s.io/coredns/coredns:{images.COREDNS_VERSION}" in sent
