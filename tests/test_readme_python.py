"""The README's Python section runs as written: every ```python block, in order, with
what it prints checked against the comment that says what it prints."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def python_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## Python\n") : text.index("\n## Architecture\n")]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_readme_python_examples_run_and_print_what_they_say(monkeypatch):
    monkeypatch.chdir(README.parent)
    blocks = python_blocks()
    assert len(blocks) == 3
    for block in blocks:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(block, "README.md", "exec"), {})
        said = re.findall(r"print\(.*\)  # (.*)", block)
        assert printed.getvalue().splitlines() == said, block
