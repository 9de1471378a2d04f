"""The margin study's summary statistics and its table."""

import pytest

from bench.margins import format_markdown, summarize


def _run(loss, top1):
    metrics = {"top1": top1, "top5": 0.9, "top10": 1.0}
    return {"loss": loss, "unseen_ranking": metrics, "unseen": metrics}


def test_summary_mean_spread_and_stdev():
    runs = [_run("am_softmax", 0.6), _run("am_softmax", 0.8), _run("softmax", 0.5)]
    summary = summarize(runs)
    top1 = summary["am_softmax"]["unseen_ranking.top1"]
    assert top1["mean"] == pytest.approx(0.7)
    assert top1["spread"] == pytest.approx(0.2)
    assert top1["stdev"] == pytest.approx(0.1414213562)
    assert summary["softmax"]["unseen.top1"] == {"mean": 0.5, "spread": 0.0, "stdev": 0.0}
    table = format_markdown(summary)
    assert "| am_softmax | 0.700 ± 0.141 |" in table and table.count("\n") == 3
