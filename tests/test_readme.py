"""README.rst is executed: the docs cannot rot.

- Every ``.. code-block:: python`` runs as written, as a script of its own in a fresh
  interpreter (a block defining ``test_`` functions runs under pytest instead). When the
  paragraph after a block ends with ``prints::``, the literal block under it is what the
  script must print (``...`` stands for any text).
- A python block under a comment ``.. excerpt of examples/NAME.py`` is part of that file,
  verbatim (the file runs in tests/test_distributed.py, where Ray, Dask and Celery are
  installed): checked here, not run.
- Every ``.. code-block:: console`` is a session checked line by line: ``$`` commands run
  in one scratch directory against an emulator (``WXOCR_APPID``/``WXOCR_SECRET``/
  ``WXOCR_BASE_URL`` set), and the lines under each command are its output (stdout and
  stderr), ``...`` again standing for any text. Commands shown but not run (installing,
  servers that run until stopped) are in ``.. code-block:: sh`` blocks.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from wxocr_async.emulator.server import DEFAULT_APPID, DEFAULT_SECRET

from .conftest import ROOT, serving_process

README = ROOT / "README.rst"
BIN = Path(sys.executable).parent
#: the one setting a user's pytest configuration would hold (pytest-asyncio warns without it)
PYTEST_CONFIG = ("-o", "asyncio_default_fixture_loop_scope=function")
RUN_TIMEOUT = 240  # a hang guard: the slowest block loads the local engine's models


@attrs.frozen
class Block:
    kind: str  # "python" or "console"
    line: int  # 1-based line of the directive in README.rst
    code: str
    expected: str | None = None  # python: what it prints, when README shows it
    excerpt_of: str | None = None  # python: the example file it is a part of


def _indented(lines: list[str], start: int) -> tuple[str, int]:
    """The indented body starting at ``start`` (after the directive's blank line), dedented,
    and the index of the first line after it."""
    body: list[str] = []
    i = start
    while i < len(lines) and (not lines[i].strip() or lines[i].startswith("   ")):
        body.append(lines[i][3:])
        i += 1
    return "\n".join(body).strip("\n") + "\n", i


def readme_blocks(text: str) -> list[Block]:
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        directive = re.fullmatch(r"\.\. code-block:: (python|console)", lines[i])
        if directive is None:
            i += 1
            continue
        line = i + 1
        before = [text for text in lines[max(0, i - 3) : i] if text.strip()]
        excerpt = re.fullmatch(r"\.\. excerpt of (\S+)", before[-1]) if before else None
        code, i = _indented(lines, i + 1)
        expected = None
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i < len(lines) and lines[i].rstrip().endswith("prints::"):
            expected, i = _indented(lines, i + 1)
        blocks.append(Block(directive[1], line, code, expected, excerpt[1] if excerpt else None))
    return blocks


def matches(expected: str, actual: str) -> bool:
    """``actual`` is ``expected`` with each ``...`` standing for any text (line ends and
    trailing blanks aside)."""
    pattern = ".*?".join(re.escape(part) for part in _normal(expected).split("..."))
    return re.fullmatch(pattern, _normal(actual), re.DOTALL) is not None


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))
PYTHON = [b for b in BLOCKS if b.kind == "python" and b.excerpt_of is None]
EXCERPTS = [b for b in BLOCKS if b.excerpt_of is not None]
CONSOLE = [b for b in BLOCKS if b.kind == "console"]


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A directory of the block's own, where README's repository-relative paths work."""
    (tmp_path / "wxocr_async").symlink_to(ROOT / "wxocr_async", target_is_directory=True)
    return tmp_path


def block_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WXOCR_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONWARNINGS"] = "error"  # a ResourceWarning (an unclosed session) fails a block
    return env


def run_python(block: Block, scratch: Path) -> subprocess.CompletedProcess[str]:
    script = scratch / f"test_readme_line{block.line}.py"
    script.write_text(block.code, encoding="utf-8")
    if "def test_" in block.code:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *PYTEST_CONFIG]
        command.append(script.name)
    else:
        command = [sys.executable, script.name]
    return subprocess.run(
        command,
        cwd=scratch,
        env=block_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


@pytest.mark.parametrize("block", EXCERPTS, ids=[f"line{b.line}" for b in EXCERPTS])
def test_an_excerpt_is_its_example_verbatim(block: Block) -> None:
    assert block.excerpt_of is not None
    source = (ROOT / block.excerpt_of).read_text(encoding="utf-8")
    lines = block.code.strip("\n").splitlines()
    # the excerpt's lines, dedented as a whole, are consecutive lines of the file
    source_lines = source.splitlines()
    found = any(
        [_dedent(text, indent) for text in source_lines[at : at + len(lines)]] == lines
        for at in range(len(source_lines))
        for indent in (0, 4, 8)
    )
    assert found, f"README.rst line {block.line} is not a part of {block.excerpt_of}"


def _dedent(text: str, indent: int) -> str | None:
    if not text.strip():
        return ""
    return text[indent:] if text.startswith(" " * indent) else None


def test_the_readme_has_blocks_of_both_kinds() -> None:
    assert len(PYTHON) >= 10 and CONSOLE
    assert all(b.code.strip() for b in BLOCKS)


@pytest.mark.parametrize("block", PYTHON, ids=[f"line{b.line}" for b in PYTHON])
def test_python_block_runs_as_written(block: Block, scratch: Path) -> None:
    run = run_python(block, scratch)
    assert run.returncode == 0, f"README.rst line {block.line}:\n{run.stdout}\n{run.stderr}"
    if block.expected is not None:
        assert matches(block.expected, run.stdout), (
            f"README.rst line {block.line} printed:\n{run.stdout}\nREADME shows:\n{block.expected}"
        )


@pytest.fixture
def emulator_url() -> Iterator[str]:
    """``wxocr emulator`` in a process of its own, as a reader would run it."""
    command = [sys.executable, "-m", "wxocr_async", "emulator", "--port", "{port}"]
    with serving_process(command, "wxocr emulator") as port:
        yield f"http://127.0.0.1:{port}"


def session(code: str) -> list[tuple[str, str]]:
    """``(command, expected output)`` for each ``$`` line of a console block."""
    steps: list[tuple[str, list[str]]] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return [(command, "\n".join(out)) for command, out in steps]


@pytest.mark.parametrize("block", CONSOLE, ids=[f"line{b.line}" for b in CONSOLE])
def test_console_block_prints_what_it_shows(block: Block, scratch: Path, emulator_url: str) -> None:
    env = block_env()
    env.update(
        WXOCR_APPID=DEFAULT_APPID,
        WXOCR_SECRET=DEFAULT_SECRET,
        WXOCR_BASE_URL=emulator_url,
        WXOCR_PROGRESS_INTERVAL="3600",  # no progress lines between the ones README shows
    )
    for command, expected in session(block.code):
        run = subprocess.run(
            ["bash", "-c", command],
            cwd=scratch,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        assert matches(expected, run.stdout), (
            f"README.rst line {block.line}: $ {command}\nprinted:\n{run.stdout}\n"
            f"README shows:\n{expected}"
        )


def test_matching_treats_dots_as_any_text_and_nothing_else() -> None:
    assert matches("a ... c", "a b b c\n")
    assert matches("{\n  ...\n}", "{\n  1,\n  2\n}")
    assert not matches("a ... c", "a b d")
    assert not matches("a", "a\nb")
