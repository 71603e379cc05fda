"""Metrics reach the backend in batches: counters added up, histogram observations queued,
both recorded by ``flush`` (the replica's report loop) and by an exposition."""

from __future__ import annotations

import pytest

from mlta.serving.metrics import Metrics


def _value(text: str, line_start: str) -> float:
    return float(next(line for line in text.splitlines() if line.startswith(line_start))
                 .rsplit(" ", 1)[1])


def test_observations_are_queued_until_a_flush() -> None:
    metrics = Metrics("prometheus")
    metrics.observe("latency_seconds", 0.0007, "champion", "v1")
    metrics.observe("latency_seconds", 0.03, "champion", "v1")
    metrics.observe("prediction", 0.62, "champion", "v1")
    metrics.observe("forecast_magnitude", 0.004, "reg", "v2")
    metrics.count("requests_total", "champion", "v1", "200", n=2)
    hist = metrics._histograms["latency_seconds"]
    assert hist.labels("champion", "v1")._sum.get() == 0  # nothing recorded yet
    text = metrics.exposition().decode()  # flushes first
    labels = '{model_version="v1",variant="champion"}'
    assert _value(text, f"mlta_serving_latency_seconds_count{labels}") == 2
    assert _value(text, 'mlta_serving_latency_seconds_bucket{le="0.001",model_version="v1",'
                        'variant="champion"}') == 1
    assert _value(text, f"mlta_serving_prediction_count{labels}") == 1
    assert _value(text, 'mlta_serving_forecast_magnitude_sum{model_version="v2",'
                        'variant="reg"}') == pytest.approx(0.004)
    assert _value(text, 'mlta_serving_requests_total{code="200",model_version="v1",'
                        'variant="champion"}') == 2
    again = metrics.exposition().decode()  # a second flush records nothing twice
    assert _value(again, f"mlta_serving_latency_seconds_count{labels}") == 2


def test_an_unknown_histogram_fails_where_it_is_observed() -> None:
    with pytest.raises(KeyError, match="no histogram 'latency'"):
        Metrics("prometheus").observe("latency", 1.0, "a", "b")
