"""Bad command-line values give one line and a non-zero status, never a traceback: values no
command can use are refused by argparse (status 2), what only running can tell (a database
that is down, a directory that cannot be made) is one line from the command (cli.arguments)."""

from __future__ import annotations

import argparse
import os
import socket
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from cli.arguments import float_range, int_list, int_range, training_device
from cli.main import build_parser, main
from tests.fixtures.model_fixtures import FIXTURE_GROUPS

TRAIN = ["train", "--data", "x.tsv", "--out", "out"]
INDEX = ["bench", "index"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--port", "99999"], "argument --port: must be an integer from 1 to 65535"),
        (["serve", "--port", "0"], "argument --port"),
        (["serve", "--port", "http"], "argument --port"),
        (["serve", "--workers", "0"], "argument --workers: must be an integer >= 1, got '0'"),
        (["serve", "--workers", "-2"], "argument --workers"),
        (["bench", "service", "--workers", "0"], "argument --workers"),
        ([*TRAIN, "--device", "tpu"], "argument --device: must be auto, cpu, cuda or cuda:N"),
        ([*TRAIN, "--batch-size", "0"], "argument --batch-size"),
        ([*TRAIN, "--learning-rate", "nan"], "argument --learning-rate: must be a finite"),
        ([*TRAIN, "--learning-rate", "0"], "argument --learning-rate"),
        ([*TRAIN, "--hidden-size", "0"], "argument --hidden-size"),
        ([*TRAIN, "--embedding-dim", "0"], "argument --embedding-dim"),
        ([*TRAIN, "--layers", "0"], "argument --layers"),
        ([*TRAIN, "--threads", "0"], "argument --threads"),
        ([*TRAIN, "--epochs", "-1"], "argument --epochs"),
        ([*TRAIN, "--min-steps", "-1"], "argument --min-steps"),
        ([*TRAIN, "--warmup-steps", "-1"], "argument --warmup-steps"),
        ([*TRAIN, "--margin", "-5"], "argument --margin"),
        ([*TRAIN, "--margin", "2"], "argument --margin"),
        ([*TRAIN, "--scale", "0"], "argument --scale"),
        ([*TRAIN, "--scale", "inf"], "argument --scale"),
        ([*TRAIN, "--label-smoothing", "1"], "argument --label-smoothing"),
        ([*TRAIN, "--word-dropout", "1"], "argument --word-dropout"),
        ([*TRAIN, "--word-dropout", "-0.1"], "argument --word-dropout"),
        ([*TRAIN, "--max-train-seconds", "-1"], "argument --max-train-seconds"),
        ([*TRAIN, "--min-count", "0"], "argument --min-count"),
        ([*TRAIN, "--max-tokens", "0"], "argument --max-tokens"),
        ([*TRAIN, "--seed", "-1"], "argument --seed"),
        ([*TRAIN, "--members", "0"], "argument --members"),
        ([*TRAIN, "--distil-steps", "-1"], "argument --distil-steps"),
        ([*TRAIN, "--synthetic-en", "-1"], "argument --synthetic-en"),
        ([*TRAIN, "--listwise-weight", "nan"], "argument --listwise-weight"),
        ([*TRAIN, "--topic-share", "1.5"], "argument --topic-share"),
        (
            [*TRAIN, "--init-from", "{file}"],
            "argument --init-from: must be a checkpoint directory (with checkpoint.json): "
            "{file} is a file",
        ),
        ([*TRAIN, "--init-from", "{dir}"], "{dir} has no checkpoint.json"),
        ([*TRAIN, "--init-from", "{dir}/nothing"], "{dir}/nothing does not exist"),
        (["train", "--data", "x.tsv", "--out", "{file}"], "argument --out: must be a directory"),
        (["train", "--data", "x.tsv", "--out", "{file}/sub"], "{file} is a file"),
        (["bench", "quality", "--data", "x", "--out", "o", "--class-weight-share", "2"], "share"),
        (["bench", "margins", "--data", "x", "--out", "o", "--seeds", "0"], "argument --seeds"),
        (["db", "current", "--database-url", "notaurl"], "not a database URL: 'notaurl'"),
        (["db", "upgrade", "--database-url", "notaurl"], "not a database URL"),
        (["import", "x.jsonl", "--database-url", "notaurl"], "not a database URL"),
        (["export", "x.jsonl", "--database-url", "notaurl"], "not a database URL"),
        (["bench", "store", "--database-url", "notaurl"], "not a database URL"),
        (["bench", "store", "--threads", "0"], "argument --threads"),
        (["bench", "store", "--entries", "0"], "argument --entries"),
        (["bench", "store", "--entries", "-3"], "argument --entries"),
        ([*INDEX, "--sizes", "0"], "argument --sizes: not a size: '0'"),
        ([*INDEX, "--sizes", "-5"], "argument --sizes"),
        ([*INDEX, "--sizes", "10k,k"], "argument --sizes"),
        ([*INDEX, "--dim", "0"], "argument --dim"),
        ([*INDEX, "--queries", "0"], "argument --queries"),
        ([*INDEX, "--nprobe", "0"], "argument --nprobe"),
        ([*INDEX, "--ef-search", "16,0"], "argument --ef-search"),
        ([*INDEX, "--threads", "0"], "argument --threads"),
        (["index", "build", "--model", "{file}"], "argument --model: must be a checkpoint"),
        (["evaluate", "--model", "{dir}/none", "--data", "x.tsv"], "{dir}/none does not exist"),
        (["evaluate", "--model", "{dir}", "--data", "x.tsv"], "has no checkpoint.json"),
        (["bench", "service", "--model", "{dir}/none"], "argument --model: must be a checkpoint"),
        (["bench", "soak", "--model", "{file}"], "{file} is a file"),
    ],
)
def test_a_bad_value_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    (tmp_path / "file").write_text("not a checkpoint\n", encoding="utf-8")
    paths = {"file": str(tmp_path / "file"), "dir": str(tmp_path)}
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([part.format(**paths) for part in argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0] == err.strip().splitlines()[-1]
    assert message.format(**paths) in errors[0]


def test_cuda_is_refused_where_torch_cannot_use_it(capsys: pytest.CaptureFixture[str]) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        assert training_device("cuda") == "cuda"
        return
    with pytest.raises(SystemExit):
        build_parser().parse_args([*TRAIN, "--device", "cuda"])
    assert "argument --device: CUDA is not available on this machine" in capsys.readouterr().err


def test_good_values_pass_through() -> None:
    args = build_parser().parse_args(
        [*TRAIN, "--device", "auto", "--margin", "0", "--word-dropout", "0", "--seed", "0"]
    )
    assert (args.device, args.margin, args.word_dropout, args.seed) == ("auto", 0.0, 0.0, 0)
    assert build_parser().parse_args(["serve", "--port", "65535"]).port == 65535
    assert build_parser().parse_args([*INDEX, "--sizes", "2k,5"]).sizes == (2000, 5)
    assert int_list(1)(" 8, 16") == (8, 16)
    assert int_range(0, 3)("3") == 3 and float_range(0, 1)("1") == 1.0
    with pytest.raises(argparse.ArgumentTypeError, match="got '1.5'"):
        int_range(0)("1.5")


def _closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """main(argv)'s exit status and stderr, as the shell would see them."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        if isinstance(exit_.code, str):  # the interpreter prints it and exits 1
            print(exit_.code, file=sys.stderr)
            code = 1
        else:
            code = exit_.code
    return code, capsys.readouterr().err


def _assert_one_line(err: str, message: str) -> None:
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and message in err, err


@pytest.mark.parametrize("command", [["db", "current"], ["db", "upgrade"], ["bench", "store"]])
def test_a_database_that_is_down_is_one_line(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/samesay"
    code, err = _run([*command, "--database-url", url], capsys)
    assert code == 1
    _assert_one_line(err, "database unavailable")


@pytest.mark.postgres
def test_db_current_of_a_missing_database_is_one_line(capsys: pytest.CaptureFixture[str]):
    server = os.environ.get("SAMESAY_TEST_DATABASE_URL")
    if not server:
        pytest.skip("SAMESAY_TEST_DATABASE_URL is not set")
    url = make_url(server).set(database=f"samesay_nosuch_{uuid.uuid4().hex[:8]}")
    for command in (["db", "current"], ["db", "upgrade"]):
        code, err = _run([*command, "--database-url", url.render_as_string(False)], capsys)
        assert code == 1
        _assert_one_line(err, "does not exist")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_an_out_directory_that_cannot_be_made_stops_train_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = f"/proc/samesay-{uuid.uuid4().hex[:8]}"  # no directory can be made in /proc
    argv = ["train", "--data", str(FIXTURE_GROUPS), "--out", out, "--epochs", "1"]
    code, err = _run([*argv, "--min-steps", "0", "--threads", "1", "--members", "1"], capsys)
    assert code == 1
    _assert_one_line(err, f"samesay train: cannot create --out {out}")


def test_a_train_failure_leaves_no_empty_out_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "empty-root"
    root.mkdir()
    out = tmp_path / "base"
    code, err = _run(["train", "--recipe", "base", "--data", str(root), "--out", str(out)], capsys)
    assert code == 2 and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([*INDEX, "--sizes", "10"], "--queries 300 is more than the smallest of --sizes (10)"),
        (
            [*INDEX, "--vectors", "real", "--data", "{tmp}/none"],
            "--data {tmp}/none is not a directory",
        ),
    ],
)
def test_bench_index_refuses_what_it_cannot_measure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, err = _run([part.format(tmp=tmp_path) for part in argv], capsys)
    assert code == 2
    _assert_one_line(err, f"bench index: {message.format(tmp=tmp_path)}")


def test_bench_index_without_datasets_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _run([*INDEX, "--vectors", "real", "--data", str(tmp_path)], capsys)
    assert code == 1
    # No shipped base model in the checkout, or no paraphrase groups under --data.
    _assert_one_line(err, "bench index: no ")
