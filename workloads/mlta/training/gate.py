"""The gate: what a model version must reach on the lockbox before it may be served.

Each criterion of ``spec.gate`` that is set is checked against the lockbox figures (after
costs) and the search's selection-bias statistics; an undefined figure (NaN) fails its
criterion, since "could not be measured" is no evidence of skill. A version that fails is
still registered, with ``gate: failed`` and every reason, so it can be inspected; a
ModelDeployment refuses to serve it unless its variant opts in.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..registry import GateInfo, GateStatus
from ..specs.trainingjob import CLASSIFICATION_TARGETS, GateSpec, TargetKind
from .baselines import Evaluation, beats_baselines

if TYPE_CHECKING:  # pragma: no cover
    from .evaluate import SelectionBias


def comparison_metric(kind: TargetKind) -> str:
    """The prediction score compared with the baselines' (besides the trading figures)."""
    if TargetKind(kind) in CLASSIFICATION_TARGETS:
        return "auc"
    return "rmse" if TargetKind(kind) is TargetKind.VOLATILITY else "correlation"


def _check(checks: dict[str, dict[str, Any]], reasons: list[str], name: str, value: float | None,
           threshold: float, at_least: bool, label: str) -> None:
    value = math.nan if value is None else float(value)
    passed = math.isfinite(value) and (value >= threshold if at_least else value <= threshold)
    checks[name] = {"value": value if math.isfinite(value) else None, "threshold": threshold,
                    "passed": passed}
    if not passed:
        shown = f"{value:.4g}" if math.isfinite(value) else "undefined"
        sign = ">=" if at_least else "<="
        reasons.append(f"{label} is {shown}, the gate needs {sign} {threshold:g}")


def evaluate_gate(gate: GateSpec, kind: TargetKind, lockbox: dict[str, float],
                  model: Evaluation, baselines: list[Evaluation], bias: SelectionBias) -> GateInfo:
    """The verdict of ``gate`` on the chosen model's lockbox figures."""
    checks: dict[str, dict[str, Any]] = {}
    reasons: list[str] = []
    if gate.min_lockbox_auc is not None:
        _check(checks, reasons, "minLockboxAuc", lockbox.get("auc"), gate.min_lockbox_auc, True,
               "lockbox AUC")
    if gate.min_lockbox_correlation is not None:
        _check(checks, reasons, "minLockboxCorrelation", lockbox.get("correlation"),
               gate.min_lockbox_correlation, True, "lockbox correlation")
    if gate.min_net_sharpe is not None:
        _check(checks, reasons, "minNetSharpe", lockbox.get("sharpe"), gate.min_net_sharpe, True,
               "lockbox net Sharpe")
    if gate.max_drawdown is not None:
        _check(checks, reasons, "maxDrawdown", lockbox.get("maxDrawdown"), gate.max_drawdown,
               False, "lockbox max drawdown")
    if gate.min_deflated_sharpe is not None:
        dsr = bias.dsr.dsr if bias.dsr is not None else None
        _check(checks, reasons, "minDeflatedSharpe", dsr, gate.min_deflated_sharpe, True,
               "Deflated Sharpe Ratio")
    if gate.max_pbo is not None:
        pbo = bias.pbo.pbo if bias.pbo is not None else None
        _check(checks, reasons, "maxPbo", pbo, gate.max_pbo, False,
               "Probability of Backtest Overfitting")
    if gate.beat_baselines:
        verdict = beats_baselines(model, baselines, comparison_metric(kind))
        checks["beatBaselines"] = {"value": verdict.passed, "threshold": True,
                                   "passed": verdict.passed}
        reasons.extend(f"lockbox: {r}" for r in verdict.reasons)
    status = GateStatus.PASSED if not reasons else GateStatus.FAILED
    return GateInfo(status=status, reasons=reasons, checks=checks)
