"""Scoring predictions once their horizon has passed, per variant, from the candles seen.

Every variant predicts every candle (the served one answers the client, the others are
shadow predictions), so all variants are scored on the same candles and can be compared
pairwise. A prediction made on the candle opening at t with horizon h is scored when the
candle opening at t + h bars closes: r = close(t+h) / close(t) - 1.

- signal: +1 / -1 from the probability against the model's threshold (classifiers), or the
  sign of the forecast (regressors); a zero forecast is no position;
- hit: the signal has the sign of r (a move within the model's dead band is not scored);
- net return: signal * r minus the costs of opening and closing the position,
  2 * (feeBps + slippageBps) / 1e4;
- AUC (classifiers): over the last ``window`` scored predictions, P(up) against "went up".

The rollout test gets one paired difference per symbol per horizon (candles on the grid
t = 0 mod h), so the outcomes it sees do not overlap in time.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from .model import ServedModel
from .sprt import MixtureSPRT


@dataclass
class Score:
    hit: float | None
    net: float | None


def score(model: ServedModel, prediction: float, realized: float, cost: float) -> Score:
    """Hit and net return of one prediction given the realized return."""
    if not math.isfinite(prediction) or not math.isfinite(realized):
        return Score(None, None)
    if model.classifier:
        signal = 1.0 if prediction > model.threshold else -1.0
    else:
        signal = float((prediction > 0) - (prediction < 0))
    net = signal * realized - (2.0 * cost if signal else 0.0)
    if signal == 0 or abs(realized) <= model.dead_band:
        return Score(None, net)
    return Score(1.0 if signal * realized > 0 else 0.0, net)


def auc(pairs: deque[tuple[float, float]]) -> float | None:
    """ROC AUC of (score, label) pairs by ranks (ties share their rank); None if one class."""
    positives = sum(1 for _, y in pairs if y > 0)
    negatives = len(pairs) - positives
    if positives == 0 or negatives == 0:
        return None
    ordered = sorted(pairs, key=lambda p: p[0])
    rank_sum, i = 0.0, 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1][0] == ordered[i][0]:
            j += 1
        mid = (i + j) / 2.0 + 1.0
        rank_sum += mid * sum(1 for k in range(i, j + 1) if ordered[k][1] > 0)
        i = j + 1
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


@dataclass
class VariantOutcomes:
    scored: int = 0
    hits: int = 0
    hit_count: int = 0
    net_total: float = 0.0
    pairs: deque[tuple[float, float]] = field(default_factory=deque)

    def summary(self, classifier: bool) -> dict[str, float | int | None]:
        return {"scored": self.scored,
                "hitRate": self.hits / self.hit_count if self.hit_count else None,
                "auc": auc(self.pairs) if classifier else None,
                "netReturn": self.net_total / self.scored if self.scored else None}


class OutcomeBook:
    """Pending predictions per symbol, scores per variant, and the rollout tests."""

    def __init__(self, models: dict[str, ServedModel], step_ms: int, *, fee_bps: float,
                 slippage_bps: float, window: int, champion: str, metric: str, alpha: float,
                 min_samples: int, scale: float) -> None:
        self.models = models
        self.step_ms = step_ms
        self.cost = (fee_bps + slippage_bps) / 1e4
        self.window = window
        self.champion = champion
        self.metric = metric
        self.horizon = max(m.horizon for m in models.values())
        self.results = {name: VariantOutcomes() for name in models}
        challengers = [n for n in models if n != champion]
        share = alpha / max(1, len(challengers))  # Bonferroni over the challengers
        self.tests = {n: MixtureSPRT(share, scale, min_samples) for n in challengers}
        # symbol -> open_ms -> (close, {variant: prediction})
        self._pending: dict[str, dict[int, tuple[float, dict[str, float]]]] = {}

    def observe(self, symbol: str, open_ms: int, close: float,
                predictions: dict[str, float]) -> None:
        """A closed candle and every variant's prediction on it: score what is now due."""
        book = self._pending.setdefault(symbol, {})
        scores: dict[str, Score] = {}
        for name, model in self.models.items():
            past = book.get(open_ms - model.horizon * self.step_ms)
            if past is None or name not in past[1]:
                continue
            realized = close / past[0] - 1.0
            prediction = past[1][name]
            result = score(model, prediction, realized, self.cost)
            if result.net is None:
                continue
            scores[name] = result
            out = self.results[name]
            out.scored += 1
            out.net_total += result.net
            if result.hit is not None:
                out.hit_count += 1
                out.hits += int(result.hit)
            if model.classifier and abs(realized) > model.dead_band:
                out.pairs.append((prediction, 1.0 if realized > 0 else 0.0))
                if len(out.pairs) > self.window:
                    out.pairs.popleft()
        self._test(open_ms, scores)
        book[open_ms] = (close, dict(predictions))
        horizon_ms = self.horizon * self.step_ms
        for stale in [t for t in book if t < open_ms - horizon_ms]:
            del book[stale]

    def _test(self, open_ms: int, scores: dict[str, Score]) -> None:
        base = scores.get(self.champion)
        if base is None:
            return
        for name, test in self.tests.items():
            other = scores.get(name)
            if other is None:
                continue
            made_at = open_ms // self.step_ms - self.models[name].horizon
            if made_at % max(self.models[name].horizon, self.models[self.champion].horizon):
                continue  # one outcome per horizon: non-overlapping samples
            if self.metric == "hit":
                if other.hit is None or base.hit is None:
                    continue
                test.add(other.hit - base.hit)
            else:
                assert other.net is not None and base.net is not None
                test.add(other.net - base.net)

    def summary(self) -> dict[str, dict[str, float | int | None]]:
        return {n: r.summary(self.models[n].classifier) for n, r in self.results.items()}

    def rollout(self) -> list[dict[str, float | int | str | None]]:
        return [t.summary(n) for n, t in self.tests.items()]
