"""The audit trail (issue 13 item 4): ``gamma --version``, the ``Model Version`` that names the
code and the settings, usage errors' own exit code, ``--log FILE`` / ``-v``."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest

import engine
from engine import cli
from engine.version import MODEL_SOURCES, code_hash, model_version, settings_hash

ROOT = Path(__file__).resolve().parent.parent
VERSION = re.compile(r"^gamma-desk (\S+) code ([0-9a-f]{12})$")


def test_version_names_the_package_and_the_model_code(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == cli.EXIT_OK
    first, libs = capsys.readouterr().out.splitlines()[:2]
    m = VERSION.match(first)
    assert m and m.group(1) == engine.__version__ and m.group(2) == code_hash()
    assert "pandas " in libs and "exchange_calendars " in libs


def test_code_hash_covers_the_model_sources_and_only_them(tmp_path, monkeypatch):
    """A copy of engine/ hashes the same; a changed model file changes it, CRLF line endings
    (a Windows checkout) and a changed file outside MODEL_SOURCES do not."""
    import engine.version as v

    def hash_of(root: Path) -> str:
        monkeypatch.setattr(v, "_ENGINE", root)
        v.code_hash.cache_clear()
        try:
            return v.code_hash()
        finally:
            v.code_hash.cache_clear()

    copy = tmp_path / "engine"
    shutil.copytree(ROOT / "engine", copy, ignore=shutil.ignore_patterns("__pycache__"))
    base = hash_of(copy)
    assert base == hash_of(ROOT / "engine")
    sig = copy / "models" / "signals.py"
    sig.write_bytes(sig.read_bytes().replace(b"\n", b"\r\n"))
    assert hash_of(copy) == base
    (copy / "cli.py").write_text("# not a model\n")
    assert hash_of(copy) == base
    sig.write_bytes(sig.read_bytes() + b"# changed\n")
    assert hash_of(copy) != base
    assert "models/*.py" in MODEL_SOURCES


def test_settings_hash_ignores_as_of_and_cell_types():
    a = {"As Of": "1998-12-31", "Trend Growth": 2, "Firm Name": "Gamma  Desk"}
    b = {"as of": "2001-01-31", "trend growth": 2.0, "Firm Name": "Gamma Desk"}
    assert settings_hash(a) == settings_hash(b)
    assert settings_hash(a) != settings_hash({**a, "Trend Growth": 2.5})
    assert model_version(a) == f"gamma-desk {engine.__version__} code {code_hash()} " \
                               f"settings {settings_hash(a)}"


@pytest.mark.parametrize("argv", [["refresh"], ["refresh", "x.xlsx", "--bogus"], ["frobnicate"],
                                  ["check", "x.xlsx", "--asof"]])
def test_usage_errors_exit_64_not_the_refusal_code(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == cli.EXIT_USAGE == 64
    assert "usage: gamma" in capsys.readouterr().err


def test_log_file_captures_debug_and_tracebacks(tmp_path, monkeypatch, capsys):
    """An unexpected error is one line for the user and the whole traceback in --log FILE."""
    import engine.refresh

    def broken(*a, **k):
        raise RuntimeError("boom inside the engine")

    monkeypatch.setattr(engine.refresh, "refresh", broken)
    logfile = tmp_path / "gamma.log"
    assert cli.main(["refresh", str(tmp_path / "w.xlsx"), "--log", str(logfile), "-q"]) == \
        cli.EXIT_REFUSED
    err = capsys.readouterr().err
    assert "RuntimeError: boom inside the engine" in err and "Traceback" not in err
    text = logfile.read_text()
    assert "DEBUG gamma: gamma refresh failed" in text and "Traceback (most recent call last)" in text
    assert "boom inside the engine" in text and code_hash() in text
    assert not logging.getLogger("gamma").handlers  # removed when the command ended


def test_verbose_logs_on_stderr_and_log_option_after_or_before_the_command(tmp_path, capsys):
    demo = tmp_path / "demo.xlsx"
    shutil.copyfile(ROOT / "workbooks" / "demo.xlsx", demo)
    logfile = tmp_path / "check.log"
    assert cli.main(["--log", str(logfile), "-vv", "check", str(demo)]) == cli.EXIT_OK
    assert "DEBUG gamma: gamma check:" in capsys.readouterr().err
    assert "gamma check" in logfile.read_text()
    assert cli.main(["check", str(demo), "-v"]) == cli.EXIT_OK
    assert "DEBUG" not in capsys.readouterr().err  # -v is INFO and up


def test_history_rows_name_the_code_and_settings(tmp_path):
    from engine.inputs.reader import read_workbook
    from engine.refresh import refresh

    demo = tmp_path / "demo.xlsx"
    shutil.copyfile(ROOT / "workbooks" / "demo.xlsx", demo)
    res = refresh(demo)
    hist = [c for c in res.contents if c.sheet == "History"][0].tables[0].df
    want = model_version(read_workbook(demo).settings)
    rows = hist[hist["As Of"] == res.asof]
    assert len(rows) and (rows["Model Version"] == want).all()
    assert code_hash() in want
