"""`samesay train`, `evaluate` and `bench quality` through the real CLI dispatcher."""

import json

from cli.main import build_parser, main
from cli.train import _config_from_args
from tests.fixtures.model_fixtures import FIXTURE_GROUPS


def test_recipe_options_override_the_default_config():
    args = build_parser().parse_args(
        ["train", "--data", "x.tsv", "--out", "o", "--tokenizer", "char", "--pooling", "last"]
        + ["--unidirectional", "--epochs", "3", "--min-count", "1", "--threads", "1"]
    )
    config = _config_from_args(args)
    assert config.tokenizer.kind == "char" and config.tokenizer.min_count == 1
    assert config.pooling == "last" and not config.bidirectional
    assert config.epochs == 3 and config.num_threads == 1
    assert config.loss == "am_softmax"  # untouched defaults stay the default recipe


def test_train_then_evaluate(tmp_path, capsys):
    out = tmp_path / "model"
    argv = ["train", "--data", str(FIXTURE_GROUPS), "--out", str(out), "--epochs", "2"]
    argv += ["--min-steps", "0", "--threads", "1"]
    assert main([*argv, "--min-count", "1", "--hidden-size", "16", "--embedding-dim", "16"]) == 0
    assert (out / "checkpoint.json").is_file() and (out / "weights.safetensors").is_file()
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out), "--data", str(FIXTURE_GROUPS)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"unseen", "unseen_ranking", "closed"}
