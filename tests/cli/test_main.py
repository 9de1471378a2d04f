import subprocess
import sys

from cli.main import build_parser


def test_help_lists_the_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "--help"], capture_output=True, text=True, check=True
    )
    assert "bench" in result.stdout


def test_unknown_command_is_a_usage_error() -> None:
    parser = build_parser()
    try:
        parser.parse_args(["no-such-command"])
    except SystemExit as exit_:
        assert exit_.code == 2
    else:
        raise AssertionError("argparse accepted an unknown command")
