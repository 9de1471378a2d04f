"""`samesay bench index` on a small synthetic set: every kind and knob measured, JSON written."""

from __future__ import annotations

import json
from pathlib import Path

from bench.index import BenchConfig, run_bench


def test_bench_index_measures_flat_ivf_and_hnsw_against_exact(tmp_path: Path) -> None:
    config = BenchConfig(
        sizes=(3_000,), dim=32, queries=20, nprobes=(1, 64), ef_searches=(16, 512)
    )
    results = run_bench(config, out=tmp_path / "index.json")
    assert [(r.kind, r.search_param) for r in results] == [
        ("flat", 0), ("ivf", 1), ("ivf", 64), ("hnsw", 16), ("hnsw", 512)
    ]
    by_kind = {(r.kind, r.search_param): r for r in results}
    assert by_kind["flat", 0].recall_at_k == 1.0
    # The knobs do what they say: more lists or candidates, more of the exact answers.
    assert by_kind["ivf", 64].recall_at_k > by_kind["ivf", 1].recall_at_k
    assert by_kind["hnsw", 512].recall_at_k >= 0.95
    assert by_kind["ivf", 1].nlist == 3_000 // 39  # k-means' floor of points per list
    assert all(r.build_s > 0 and r.p99_ms >= r.p50_ms > 0 for r in results)
    saved = json.loads((tmp_path / "index.json").read_text(encoding="utf-8"))
    assert len(saved["results"]) == len(results) and saved["config"]["sizes"] == [3_000]
