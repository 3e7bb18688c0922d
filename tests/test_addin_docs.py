"""docs/functions.md is generated from the code (scripts/gen_function_docs.py): the committed
file must be what the generator writes today, and it must cover every UDF."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import addin.udfs as U

ROOT = Path(__file__).resolve().parent.parent


def _gen():
    spec = importlib.util.spec_from_file_location("gen_function_docs",
                                                  ROOT / "scripts" / "gen_function_docs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_reference_is_up_to_date():
    text = _gen().render()
    committed = (ROOT / "docs" / "functions.md").read_text(encoding="utf-8")
    assert committed == text, "run: python scripts/gen_function_docs.py"


def test_reference_covers_every_udf_with_errors_and_example():
    text = (ROOT / "docs" / "functions.md").read_text(encoding="utf-8")
    for name in U.UDF_NAMES:
        section = text.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        assert f"`={name}(" in section
        assert "**Errors**" in section and "- " in section.split("**Errors**")[1]
        assert "**Example**" in section, name
        for arg, _, _ in U.EXCEL_ARGS[name]:
            assert f"| `{arg}` |" in section
    # the error lines are real '#…' results, not prose
    errors = [ln for ln in text.splitlines() if ln.startswith("- ") and ": `#" in ln]
    assert len(errors) >= len(U.UDF_NAMES)
