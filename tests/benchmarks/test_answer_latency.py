"""benchmarks/answer_latency.py's figures: over the questions every pipeline answered."""

from __future__ import annotations

import math

from benchmarks import percentile
from benchmarks.answer_latency import table


def test_percentiles_are_nearest_rank() -> None:
    values = list(range(100, 0, -1))  # 100 .. 1, in no useful order
    assert percentile(values, 0.50) == 51
    assert percentile(values, 0.95) == 95
    assert percentile(values, 1.0) == 100
    assert math.isnan(percentile([], 0.5))


def test_a_question_one_pipeline_declined_is_left_out_of_both() -> None:
    timings = {
        "baseline": {"a": [0.010], "b": [0.020]},
        # "b" declined by v2: its slow 2 s answer by baseline must not count either
        "v2": {"a": [0.012], "c": [2.0]},
    }
    text = table(timings)
    assert "questions every pipeline answered: 1" in text
    baseline, v2 = (line.split() for line in text.splitlines()[2:])
    assert baseline == ["baseline", "1", "10", "10"]
    assert v2 == ["v2", "1", "12", "12"]
