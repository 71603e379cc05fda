"""``python -m mlta.local up|down|status|reset``: the embedded default control plane + Ray.

``python -m mlta.local node up|down|status`` runs the single real node instead (root), and
``python -m mlta.local images`` builds the project's OCI images.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import MltaError
from . import controlplane, crds, operator_proc, rayhead


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlta.local", description=__doc__)
    parser.add_argument("action", choices=["up", "down", "status", "reset", "cluster", "ray", "demo",
                                           "node", "images"])
    parser.add_argument("node_action", nargs="?", choices=["up", "down", "status"],
                        help="with `node`: what to do with the single real node")
    parser.add_argument("--no-kuberay-crds", action="store_true",
                        help="skip installing KubeRay's CRDs")
    parser.add_argument("--examples", type=Path, default=controlplane.REPO / "examples",
                        help="with `demo`: the folder of CRs to apply (default: examples/)")
    parser.add_argument("--requests", type=int, default=500,
                        help="with `demo`: how many predictions to send")
    args = parser.parse_args(argv)
    if args.action in ("node", "images"):
        return _node_or_images(args.action, args.node_action)
    cp = controlplane.ControlPlane()
    try:
        if args.action in ("up", "cluster"):
            controlplane.start(cp)
            crds.install_all(cp, with_kuberay=not args.no_kuberay_crds)
        if args.action in ("up", "ray"):
            rayhead.start()
        if args.action == "up":
            operator_proc.start(cp)
        if args.action == "demo":
            from .demo import run_demo

            return run_demo(cp, requests=args.requests, examples=args.examples)
        if args.action == "down":
            operator_proc.stop(cp)
            rayhead.stop()
            controlplane.stop(cp)
        if args.action == "reset":
            controlplane.reset(cp)
        if args.action == "status":
            print(f"kube-apiserver: {'ready' if controlplane.is_ready(cp) else 'down'} "
                  f"({cp.url}, KUBECONFIG={cp.kubeconfig})")
            print(f"ray: {'up' if rayhead.is_up() else 'down'} ({rayhead.dashboard_url()})")
            print(f"operator: {'running' if operator_proc.running(cp.state_dir) else 'stopped'}")
    except MltaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _node_or_images(action: str, node_action: str | None) -> int:
    """The production path's commands: they import nothing the embedded default needs."""
    import json

    try:
        if action == "images":
            from .images import build_all

            for image in build_all():
                print(f"{image.ref:48s} {image.archive}")
            return 0
        from .node import lifecycle

        if node_action == "up":
            lifecycle.up()
        elif node_action == "down":
            return 1 if lifecycle.down() else 0
        else:
            print(json.dumps(lifecycle.status(), indent=2))
    except MltaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
