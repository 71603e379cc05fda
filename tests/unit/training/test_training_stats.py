"""PSR, DSR and PBO against the papers' numbers, scipy, a brute-force CSCV and simulation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from mlta.errors import TrainingError
from mlta.training.pbo import _splits
from mlta.training.stats import (
    EULER_MASCHERONI,
    PBO_METRICS,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    pbo_cscv,
    probabilistic_sharpe_ratio,
    sharpe_ratio,
    trial_sharpes,
)

# Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", "A numerical example": an
# annualised Sharpe ratio of 2.5 on T = 1250 daily returns (250 a year), N = 100 trials whose
# annualised Sharpe ratios have variance 1/2, skewness -3 and kurtosis 10.
PAPER_SR = 2.5 / math.sqrt(250)
PAPER_T = 1250
PAPER_VARIANCE = 0.5 / 250


class TestPaperExample:
    def test_expected_maximum_and_dsr(self):
        sr0 = expected_max_sharpe(100, PAPER_VARIANCE)
        assert sr0 == pytest.approx(0.1132, abs=5e-5)
        dsr = probabilistic_sharpe_ratio(PAPER_SR, PAPER_T, -3.0, 10.0, sr_benchmark=sr0)
        assert dsr == pytest.approx(0.9004, abs=5e-5)

    def test_fewer_trials_would_have_passed(self):
        sr0 = expected_max_sharpe(46, PAPER_VARIANCE)
        dsr = probabilistic_sharpe_ratio(PAPER_SR, PAPER_T, -3.0, 10.0, sr0)
        assert dsr == pytest.approx(0.9505, abs=5e-5)

    def test_normal_returns_survive_up_to_88_trials(self):
        sr0 = expected_max_sharpe(88, PAPER_VARIANCE)
        assert probabilistic_sharpe_ratio(PAPER_SR, PAPER_T, 0.0, 3.0, sr0) == pytest.approx(0.9505, abs=5e-5)

    def test_through_returns_with_the_papers_moments(self):
        # A two-point distribution has kurtosis = skewness^2 + 1; 105 losses in 1250 give
        # skewness close to -3 and kurtosis close to 10, scaled to the paper's Sharpe ratio.
        x = np.r_[np.full(1145, 1.0), np.full(105, 0.0)]
        x = (x - x.mean()) / x.std()
        scale = 0.01
        returns = PAPER_SR * scale * math.sqrt(PAPER_T / (PAPER_T - 1)) + scale * x
        spread = math.sqrt(PAPER_VARIANCE * 99 / 100)
        sharpes = np.r_[np.full(50, spread), np.full(50, -spread)]  # sample variance V
        result = deflated_sharpe_ratio(returns, sharpes)
        assert result.n_trials == 100 and result.n_obs == PAPER_T
        assert result.sr_variance == pytest.approx(PAPER_VARIANCE)
        assert result.sr == pytest.approx(PAPER_SR)
        assert result.skew == pytest.approx(-3.0, abs=1e-3)
        assert result.kurtosis == pytest.approx(10.0, abs=1e-2)
        assert result.sr0 == pytest.approx(0.1132, abs=5e-5)
        assert result.dsr == pytest.approx(0.9004, abs=5e-4)
        assert result.psr > 0.99


class TestProbabilisticSharpe:
    @pytest.mark.parametrize(("sr", "n", "skew", "kurt", "bench"), [
        (0.1, 250, 0.0, 3.0, 0.0), (0.05, 1000, -1.2, 7.5, 0.02), (-0.02, 60, 0.4, 4.0, 0.0),
    ])
    def test_is_the_normal_cdf_of_the_standardised_sharpe(self, sr, n, skew, kurt, bench):
        z = (sr - bench) * math.sqrt(n - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
        psr = probabilistic_sharpe_ratio(sr, n, skew, kurt, bench)
        assert psr == pytest.approx(sps.norm.cdf(z), rel=1e-12)

    def test_undefined_inputs_are_nan(self):
        assert math.isnan(probabilistic_sharpe_ratio(0.1, 1))
        assert math.isnan(probabilistic_sharpe_ratio(math.nan, 100))
        # a degenerate (two-point, kurtosis = skew^2 + 1) variance term of zero
        assert math.isnan(probabilistic_sharpe_ratio(1.0, 100, skew=2.0, kurtosis=5.0))

    def test_at_the_benchmark_it_is_one_half(self):
        assert probabilistic_sharpe_ratio(0.07, 500, -0.5, 6.0, 0.07) == pytest.approx(0.5)


class TestExpectedMaximum:
    @pytest.mark.parametrize("n", [2, 10, 100, 1000])
    def test_matches_the_formula_with_scipy(self, n):
        expected = 0.3 * ((1 - np.euler_gamma) * sps.norm.ppf(1 - 1 / n)
                          + np.euler_gamma * sps.norm.ppf(1 - 1 / (n * math.e)))
        assert expected_max_sharpe(n, 0.09) == pytest.approx(expected, rel=1e-12)
        assert EULER_MASCHERONI == pytest.approx(np.euler_gamma, abs=1e-16)

    def test_approximates_the_simulated_maximum_of_normals(self):
        rng = np.random.default_rng(11)
        for n in (20, 100):
            simulated = rng.normal(0.0, 0.05, size=(20_000, n)).max(axis=1).mean()
            assert expected_max_sharpe(n, 0.05**2) == pytest.approx(simulated, rel=0.03)

    def test_one_trial_or_no_spread_has_nothing_to_select(self):
        assert expected_max_sharpe(1, 0.5) == 0.0
        assert expected_max_sharpe(50, 0.0) == 0.0

    @pytest.mark.parametrize(("n", "v"), [(0, 0.1), (2.5, 0.1), (True, 0.1), (10, -0.1), (10, math.nan)])
    def test_bad_arguments(self, n, v):
        with pytest.raises(TrainingError):
            expected_max_sharpe(n, v)


class TestDeflatedSharpe:
    def test_moments_agree_with_scipy_and_sharpe_is_per_period(self):
        rng = np.random.default_rng(5)
        returns = rng.standard_t(5, size=400) * 0.01 + 0.001
        result = deflated_sharpe_ratio(returns, [0.01, 0.05, 0.03])
        assert result.skew == pytest.approx(sps.skew(returns, bias=True), rel=1e-10)
        assert result.kurtosis == pytest.approx(sps.kurtosis(returns, fisher=False, bias=True), rel=1e-10)
        assert result.sr == pytest.approx(returns.mean() / returns.std(ddof=1))
        assert result.sr == pytest.approx(sharpe_ratio(returns))
        assert result.sr_variance == pytest.approx(np.var([0.01, 0.05, 0.03], ddof=1))
        assert result.psr == pytest.approx(probabilistic_sharpe_ratio(
            result.sr, 400, result.skew, result.kurtosis, 0.0))
        assert result.dsr < result.psr
        assert result.reason is None

    def test_one_trial_or_identical_trials_deflate_nothing(self):
        rng = np.random.default_rng(6)
        returns = rng.normal(0.001, 0.01, 300)
        alone = deflated_sharpe_ratio(returns, [sharpe_ratio(returns)])
        assert alone.n_trials == 1 and alone.sr0 == 0.0 and alone.dsr == alone.psr
        same = deflated_sharpe_ratio(returns, [0.1] * 20)
        assert same.n_trials == 20 and same.sr0 == 0.0 and same.dsr == same.psr
        empty = deflated_sharpe_ratio(returns, [])
        assert empty.n_trials == 1 and empty.dsr == empty.psr

    def test_more_trials_counted_deflate_more(self):
        rng = np.random.default_rng(7)
        returns = rng.normal(0.002, 0.01, 300)
        sharpes = rng.normal(0.0, 0.05, 10)
        few = deflated_sharpe_ratio(returns, sharpes)
        many = deflated_sharpe_ratio(returns, np.r_[sharpes, math.nan], n_trials=200)
        assert few.n_trials == 10 and many.n_trials == 200
        assert many.sr0 > few.sr0 and many.dsr < few.dsr

    def test_short_and_flat_series_give_a_reason_not_an_error(self):
        short = deflated_sharpe_ratio([0.01, -0.02, math.nan, 0.01], [0.1, 0.2])
        assert math.isnan(short.dsr) and short.n_obs == 3 and "3 returns" in short.reason
        flat = deflated_sharpe_ratio(np.zeros(50), [0.1, 0.2])
        assert math.isnan(flat.dsr) and "no variance" in flat.reason
        assert flat.to_dict()["reason"] == flat.reason
        assert set(flat.to_dict()) == {"dsr", "psr", "sr", "sr0", "nTrials", "nObs", "skew",
                                       "kurtosis", "srVariance", "reason"}

    def test_best_of_many_noise_trials_is_not_a_discovery(self):
        rng = np.random.default_rng(2024)
        deflated, plain = [], []
        for _ in range(20):
            trials = rng.normal(0.0, 0.01, size=(500, 100))
            sharpes = trial_sharpes(trials)
            best = trials[:, int(np.argmax(sharpes))]
            result = deflated_sharpe_ratio(best, sharpes)
            deflated.append(result.dsr)
            plain.append(result.psr)
        assert np.median(plain) > 0.95  # undeflated, the winner looks significant
        assert np.mean(np.array(deflated) > 0.95) <= 0.15
        assert np.median(deflated) < 0.8

    def test_a_real_edge_survives_the_deflation(self):
        rng = np.random.default_rng(99)
        trials = rng.normal(0.0, 0.01, size=(500, 100))
        trials[:, 17] += 0.003  # per-period Sharpe ~0.3
        sharpes = trial_sharpes(trials)
        assert int(np.argmax(sharpes)) == 17
        assert deflated_sharpe_ratio(trials[:, 17], sharpes).dsr > 0.99

    def test_trial_sharpes_needs_a_matrix(self):
        with pytest.raises(TrainingError, match="T x N"):
            trial_sharpes(np.zeros(5))
        np.testing.assert_array_equal(np.isnan(trial_sharpes(np.zeros((5, 2)))), [True, True])


def _brute_force_pbo(matrix: np.ndarray, n_splits: int, metric: str) -> np.ndarray:
    """CSCV as the paper states it, one split at a time, with scipy's average ranks."""
    rows = matrix.shape[0] - matrix.shape[0] % n_splits
    data = matrix[matrix.shape[0] - rows:]
    blocks = np.split(data, n_splits)

    def score(part: np.ndarray) -> np.ndarray:
        out = []
        for column in part.T:
            values = column[np.isfinite(column)]
            if metric == "sharpe":
                defined = values.size > 1 and values.std() > 0
                out.append(values.mean() / values.std(ddof=1) if defined else np.nan)
            elif metric == "mean":
                out.append(values.mean() if values.size else np.nan)
            elif metric == "sortino":
                down = math.sqrt(np.mean(np.minimum(values, 0) ** 2)) if values.size else 0.0
                out.append(values.mean() / down if down > 0 else np.nan)
            else:
                out.append(np.prod(1 + values) - 1 if values.size else np.nan)
        return np.array(out)

    logits = []
    for pick in itertools.combinations(range(n_splits), n_splits // 2):
        rest = [b for b in range(n_splits) if b not in pick]
        ins = score(np.concatenate([blocks[b] for b in pick]))
        outs = score(np.concatenate([blocks[b] for b in rest]))
        best = int(np.nanargmax(ins))
        ranks = sps.rankdata(np.where(np.isnan(outs), -np.inf, outs), method="average")
        omega = ranks[best] / (len(outs) + 1)
        logits.append(math.log(omega / (1 - omega)))
    return np.array(logits)


class TestPBO:
    @pytest.mark.parametrize("metric", PBO_METRICS)
    def test_matches_a_brute_force_cscv(self, metric):
        rng = np.random.default_rng(3)
        matrix = rng.normal(0.0005, 0.01, size=(63, 5))
        matrix[rng.random(matrix.shape) < 0.05] = np.nan
        matrix[:, 2] += 0.002
        result = pbo_cscv(matrix, n_splits=6, metric=metric)
        expected = _brute_force_pbo(matrix, 6, metric)
        assert result.exhaustive and result.n_combinations == math.comb(6, 3) == expected.size
        np.testing.assert_allclose(result.logits, expected, rtol=1e-9)
        assert result.pbo == pytest.approx(np.mean(expected <= 0))
        assert result.n_obs == 63 and result.n_trials == 5 and result.metric == metric

    def test_pure_noise_overfits_half_the_time(self):
        rng = np.random.default_rng(8)
        values = [pbo_cscv(rng.normal(0, 0.01, size=(800, 30)), n_splits=10).pbo for _ in range(6)]
        assert 0.35 < float(np.mean(values)) < 0.65
        for value in values:
            assert 0.15 < value < 0.85

    def test_a_real_edge_is_not_overfitting(self):
        rng = np.random.default_rng(9)
        matrix = rng.normal(0, 0.01, size=(1600, 30))
        matrix[:, 4] += 0.004
        result = pbo_cscv(matrix)
        assert result.n_splits == 16 and result.n_combinations == 12_870 and result.exhaustive
        assert result.pbo < 0.05
        assert result.prob_oos_loss < 0.05
        assert result.logit_quantiles["q05"] > 0
        assert result.logit_mean > 0 and result.logit_std >= 0

    def test_noise_degrades_out_of_sample(self):
        rng = np.random.default_rng(10)
        result = pbo_cscv(rng.normal(0, 0.01, size=(960, 40)), n_splits=8)
        assert result.degradation_slope < 0
        assert math.isfinite(result.degradation_intercept)
        assert 0.2 < result.prob_oos_loss < 0.8
        summary = result.to_dict()
        assert summary["pbo"] == result.pbo and summary["nCombinations"] == math.comb(8, 4)
        assert set(summary["logitQuantiles"]) == {"q05", "q25", "q50", "q75", "q95"}

    def test_many_blocks_are_sampled_deterministically_in_complementary_pairs(self):
        rng = np.random.default_rng(12)
        matrix = rng.normal(0, 0.01, size=(400, 12))
        first = pbo_cscv(matrix, n_splits=20, max_combinations=1001, seed=4)
        again = pbo_cscv(matrix, n_splits=20, max_combinations=1001, seed=4)
        other = pbo_cscv(matrix, n_splits=20, max_combinations=1001, seed=5)
        assert not first.exhaustive and first.n_combinations == 1000
        np.testing.assert_array_equal(first.logits, again.logits)
        assert not np.array_equal(first.logits, other.logits)
        membership, exhaustive = _splits(20, 1000, 4)
        assert not exhaustive and membership.sum(axis=1).tolist() == [10] * 1000
        picks = {tuple(row) for row in membership}
        assert len(picks) == 1000 and all(tuple(~np.array(p)) in picks for p in picks)

    def test_undefined_cases_give_a_reason(self):
        one = pbo_cscv(np.random.default_rng(1).normal(size=(100, 1)))
        assert math.isnan(one.pbo) and "2 trials" in one.reason and one.n_combinations == 0
        empty_column = np.c_[np.random.default_rng(1).normal(size=100), np.full(100, np.nan)]
        assert "2 trials" in pbo_cscv(empty_column).reason
        short = pbo_cscv(np.random.default_rng(1).normal(size=(10, 4)), n_splits=16)
        assert math.isnan(short.pbo) and "16 periods" in short.reason
        flat = pbo_cscv(np.zeros((64, 3)), n_splits=4)
        assert math.isnan(flat.pbo) and "in-sample sharpe" in flat.reason
        assert flat.to_dict()["reason"] == flat.reason

    def test_a_total_loss_ranks_last_under_total_return(self):
        rng = np.random.default_rng(13)
        matrix = rng.normal(0.001, 0.01, size=(40, 3))
        matrix[5, 0] = -1.0  # trial 0 is wiped out in the first block
        result = pbo_cscv(matrix, n_splits=4, metric="total_return")
        expected = _brute_force_pbo(matrix, 4, "total_return")
        np.testing.assert_allclose(result.logits, expected, rtol=1e-9)

    @pytest.mark.parametrize(("kwargs", "message"), [
        ({"n_splits": 7}, "even"), ({"n_splits": 0}, "even"), ({"n_splits": 2.0}, "even"),
        ({"metric": "calmar"}, "unknown PBO metric"), ({"max_combinations": 1}, ">= 2"),
    ])
    def test_bad_arguments(self, kwargs, message):
        with pytest.raises(TrainingError, match=message):
            pbo_cscv(np.zeros((64, 3)), **kwargs)

    def test_needs_a_matrix(self):
        with pytest.raises(TrainingError, match="T x N"):
            pbo_cscv(np.zeros(64))


def test_numpy_integers_are_whole_numbers():
    rng = np.random.default_rng(14)
    matrix = rng.normal(0, 0.01, size=(64, 4))
    assert pbo_cscv(matrix, n_splits=np.int64(4)).n_splits == 4
    assert expected_max_sharpe(np.int64(10), 0.01) == expected_max_sharpe(10, 0.01)
    result = deflated_sharpe_ratio(matrix[:, 0], trial_sharpes(matrix), n_trials=np.int64(9))
    assert result.n_trials == 9 and type(result.n_trials) is int
