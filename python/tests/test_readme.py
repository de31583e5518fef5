"""The README's examples run as written: its pytest tests pass under the
plugin, and its plain-Python example runs. The project README's "From
Python" test is the package README's first one."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from support import require

require("atoms_mock")
require("smallestai")

PACKAGE_README = Path(__file__).resolve().parents[1] / "README.md"
PROJECT_README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks(path: Path) -> list:
    if not path.is_file():
        pytest.skip(f"{path} is not here (not running from a checkout)")
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


def test_the_readme_tests_pass_under_the_plugin(pytester: pytest.Pytester):
    tests = [b for b in python_blocks(PACKAGE_README) if b.startswith("def test_")]
    assert len(tests) == 2
    pytester.makepyfile(test_readme="\n\n".join(tests))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*pre-conversation", "post-conversation", "analytics-completed*"])


def test_the_readme_example_without_pytest_runs():
    [example] = [b for b in python_blocks(PACKAGE_README) if b.startswith("from atoms_mock import AtomsMock")]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example, str(PACKAGE_README), "exec"), {})
    urls = r"http://127\.0\.0\.1:(\d+) http://127\.0\.0\.1:\1/atoms/v1 ws://127\.0\.0\.1:\1/atoms/v1/agent/connect"
    assert re.fullmatch(urls + r"\n/atoms/v1/agent\n", out.getvalue()), out.getvalue()


def test_the_project_readme_shows_the_same_test():
    first = next(b for b in python_blocks(PACKAGE_README) if b.startswith("def test_"))
    assert first in python_blocks(PROJECT_README)
