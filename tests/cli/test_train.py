"""`samesay train`, `evaluate` and `bench quality` through the real CLI dispatcher."""

import json

import pytest

from cli.main import build_parser, main
from cli.train import _config_from_args
from tests.fixtures.base_data import write_tiny_data_root
from tests.fixtures.model_fixtures import FIXTURE_GROUPS


def test_recipe_options_override_the_default_config():
    args = build_parser().parse_args(
        ["train", "--data", "x.tsv", "--out", "o", "--tokenizer", "char", "--pooling", "last"]
        + ["--unidirectional", "--epochs", "3", "--min-count", "1", "--threads", "1"]
    )
    config = _config_from_args(args)
    assert config.encoder.tokenizer.kind == "char" and config.encoder.tokenizer.min_count == 1
    assert config.encoder.pooling == "last" and not config.encoder.bidirectional
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


def test_network_options_reach_the_encoder_config():
    args = build_parser().parse_args(
        ["train", "--data", "x.tsv", "--out", "o", "--hidden-size", "32", "--members", "1"]
        + ["--embedding-dim", "16", "--layers", "2", "--max-tokens", "20", "--seed", "4"]
    )
    config = _config_from_args(args)
    encoder = config.encoder
    assert (encoder.hidden_size, encoder.embedding_dim, encoder.num_layers) == (32, 16, 2)
    assert encoder.members == 1 and encoder.tokenizer.max_tokens == 20
    assert encoder.pooling == "max" and config.seed == 4


def test_the_base_recipe_command_writes_a_checkpoint_and_its_model_card(tmp_path, capsys):
    root = write_tiny_data_root(tmp_path / "data")
    out = tmp_path / "base"
    argv = ["train", "--recipe", "base", "--data", str(root), "--out", str(out)]
    argv += ["--no-teacher-start", "--epochs", "1", "--hidden-size", "8", "--embedding-dim", "8"]
    argv += ["--listwise-weight", "0.5"]
    assert main([*argv, "--batch-size", "4", "--threads", "1"]) == 0
    card = (out / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "samesay train --recipe base" in card and "hwu64_en" in card
    meta = json.loads((out / "checkpoint.json").read_text(encoding="utf-8"))
    assert meta["encoder"]["hidden_size"] == 8 and meta["content_hash"] in card
    assert not meta["training"]["base_recipe"]["token_init"]
    assert meta["training"]["base_recipe"]["listwise_weight"] == 0.5
    assert "model card" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--data", "missing.tsv", "--out", "o"], "samesay train: "),
        (["train", "--recipe", "base", "--data", "no-such-root", "--out", "o"], "teacher"),
        (["evaluate", "--model", "{model}", "--data", "missing.tsv"], "samesay evaluate: "),
    ],
)
def test_bad_input_is_one_line_and_status_2_not_a_traceback(
    tmp_path, monkeypatch, capsys, argv, message
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "checkpoint.json").write_text("{}")
    assert main([part.format(model="model") for part in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_topic_share_outside_zero_to_one_is_refused_before_training(tmp_path, capsys):
    argv = ["train", "--recipe", "base", "--data", str(tmp_path), "--out", str(tmp_path / "o")]
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--topic-share", "1.5"])
    assert exit_.value.code == 2 and "argument --topic-share" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_network_options_with_init_from_are_refused_not_ignored(tmp_path, capsys) -> None:
    """A fine-tune keeps the checkpoint's network: --tokenizer char was silently ignored."""
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "checkpoint.json").write_text("{}")
    argv = ["train", "--data", str(FIXTURE_GROUPS), "--out", str(tmp_path / "out")]
    argv += ["--init-from", str(tmp_path / "base"), "--tokenizer", "char", "--layers", "2"]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert str(exited.value) == (
        "samesay: --tokenizer, --layers cannot change a fine-tune: with --init-from the "
        "network (tokenizer, sizes, pooling) is the checkpoint's"
    )
    assert not (tmp_path / "out").exists()
