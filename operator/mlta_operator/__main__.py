"""``python -m mlta_operator``: validate settings, set up JSON logs, run kopf."""

from __future__ import annotations

import sys


def main() -> int:
    from mlta.config import load_settings
    from mlta.errors import ConfigError
    from mlta.logs import configure_logging

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"mlta-operator: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log.level, settings.log.format)

    import kopf

    from . import handlers  # noqa: F401  (registers the handlers)

    namespaces = settings.operator.namespaces
    port = settings.operator.health_port
    kopf.run(standalone=True, clusterwide=not namespaces, namespaces=namespaces,
             liveness_endpoint=f"http://127.0.0.1:{port}/healthz" if port else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
