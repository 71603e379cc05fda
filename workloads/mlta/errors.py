"""One exception hierarchy for both planes.

Every error says what was wrong and how to fix it, so a message can be copied straight into
a CR's condition or a CLI's output. The operator maps these onto kopf's temporary and
permanent errors: ``retryable`` decides which.
"""

from __future__ import annotations


class MltaError(Exception):
    """Base of every error mlta raises on purpose.

    ``reason`` is a CamelCase word for Kubernetes conditions; ``hint`` says how to fix it.
    """

    reason: str = "Error"
    retryable: bool = False

    def __init__(self, message: str, *, hint: str | None = None, reason: str | None = None) -> None:
        self.message = message
        self.hint = hint
        if reason is not None:
            self.reason = reason
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(MltaError):
    """Settings file, overlay or MLTA_* variable is invalid."""

    reason = "InvalidConfig"


class SpecError(MltaError):
    """A CR spec (or a job's envelope) does not validate."""

    reason = "InvalidSpec"


class DataError(MltaError):
    """Input data is missing, corrupt or fails quality policy."""

    reason = "DataError"


class SourceError(MltaError):
    """A market data source failed (network, exchange error, unknown symbol)."""

    reason = "SourceError"
    retryable = True


class StorageError(MltaError):
    """Reading or writing the lake or the registry failed."""

    reason = "StorageError"
    retryable = True


class TrainingError(MltaError):
    """Model fitting, validation or registration failed."""

    reason = "TrainingFailed"


class ServingError(MltaError):
    """A Serve application could not be built or answered badly."""

    reason = "ServingError"


class BackendError(MltaError):
    """The engine backend (Ray or KubeRay) refused or could not be reached."""

    reason = "BackendUnavailable"
    retryable = True


class DependencyNotReady(MltaError):
    """A referenced resource (DataPipeline, TrainingJob) is not Ready yet."""

    reason = "WaitingForDependency"
    retryable = True
