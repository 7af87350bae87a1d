"""The CLI's error guarantees: one sentence, exit 2, bracketed text literal, no traceback, fast --help."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from addin.cli import common
from addin.cli.main import COMMANDS, app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _boom_app():
    t = typer.Typer()

    @t.command()
    def boom(as_json: bool = typer.Option(False, "--json")):
        with common.handle_errors(as_json):
            {}["missing"]            # an unexpected KeyError inside a command
    return t


def test_unexpected_exception_is_one_line_and_a_log_file(tmp_path, monkeypatch):
    monkeypatch.setenv("ROTATION_LOG_DIR", str(tmp_path / "logs"))
    r = runner.invoke(_boom_app(), [])
    assert r.exit_code == 2 and r.exception is None or isinstance(r.exception, SystemExit)
    text = r.output
    assert "Traceback" not in text and "KeyError" in text
    logs = list((tmp_path / "logs").glob("rotation-error-*.log"))
    assert len(logs) == 1 and "Traceback" in logs[0].read_text() and str(logs[0]) in " ".join(text.split())


def test_bracketed_text_is_printed_literally(capsys):
    from rich.table import Table

    common.print_error("the mapping file's [series] table has no [limits] table", as_json=False)
    t = Table(title="Allocation [local store s.sqlite]")
    t.add_column("a")
    t.add_row("[abc] [bold]x[/]")
    common.out.print(t)
    common.out.print("[bold]Verdict:[/] fine [vendor files in /data]")
    got = capsys.readouterr()
    assert "[series] table has no [limits] table" in got.err
    assert "[local store s.sqlite]" in " ".join(got.out.split()) and "[abc] x" in got.out
    assert "Verdict: fine [vendor files in /data]" in got.out


def test_every_registered_command_loads_and_has_help():
    for name in COMMANDS:
        r = runner.invoke(app, [name, "--help"])
        assert r.exit_code == 0, (name, r.output)


def test_help_imports_no_command_module_and_no_pandas():
    code = ("import sys; sys.argv=['rotation','--help']\n"
            "from addin.cli.main import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "bad=[m for m in sys.modules if m.split('.')[0] in ('pandas','numpy','scipy','engine','usecases')"
            " or m.endswith('_cmd')]\n"
            "print('HEAVY', bad)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert "HEAVY []" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("argv", [["signals", "--demo", "--as-of", "10.06.2008"],
                                  ["signals", "--demo", "--as-of", "9999-12-31"],
                                  ["signals", "--demo", "--as-of", "0001-01-01"]])
def test_bad_dates_are_one_sentence_exit_2(argv):
    r = runner.invoke(app, argv)
    assert r.exit_code == 2 and "Traceback" not in r.output and "as_of" in r.output


def test_commands_registered_the_eager_way_still_work_beside_the_lazy_table():
    from addin.cli.main import LazyGroup

    t = typer.Typer(cls=LazyGroup, no_args_is_help=True)

    @t.callback()
    def root():
        """Root."""

    @t.command("hello")
    def hello():
        """Say hello."""
        print("hi")
    assert runner.invoke(t, ["hello"]).output.strip() == "hi"
    listing = runner.invoke(t, ["--help"]).output
    assert "hello" in listing and "optimize" in listing
    assert runner.invoke(t, ["data", "--help"]).exit_code == 0
