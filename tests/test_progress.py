"""Progress: a live bar on a terminal, plain lines now and then elsewhere, silence for
quick work or when switched off; `kgan fit` on a real pseudo-terminal draws its bar."""

import io
import os
import pty
import subprocess
import sys

import pytest

from keras_gan import progress
from keras_gan.progress import Progress
from keras_gan.progress import track
from tests.tiny import TINY


@pytest.fixture(autouse=True)
def progress_on(monkeypatch):
    monkeypatch.delenv(progress.ENV, raising=False)  # conftest switches it off


def test_quick_work_off_a_terminal_prints_nothing_and_items_pass_through():
    stream = io.StringIO()
    with Progress("rendering", 3, "fonts", stream=stream) as bar:
        for done in range(1, 4):
            bar.update(done)
    assert stream.getvalue() == ""
    assert list(track(iter("abc"), "reading")) == ["a", "b", "c"]


def test_long_work_off_a_terminal_prints_plain_lines(monkeypatch):
    monkeypatch.setattr(progress, "FIRST_LINE_AFTER", 0.0)
    monkeypatch.setattr(progress, "LINE_EVERY", 0.0)
    stream = io.StringIO()
    with Progress("writing data", 4, "images", stream=stream) as bar:
        bar.update(1)
        bar.update(4)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in stream.getvalue()
    assert lines[0].startswith("writing data: 1/4 images (25%), ") and "eta" in lines[0]
    assert lines[1].startswith("writing data: 4/4 images (100%), ") and "eta" not in lines[1]


def test_a_terminal_gets_a_bar_redrawn_in_place_and_ended_by_a_newline():
    stream = io.StringIO()
    bar = Progress("tracing", 10, "glyphs", live=True, stream=stream, initial=2)
    bar.update(10)  # the last update always draws
    bar.clear()
    bar.close()
    out = stream.getvalue()
    assert out.startswith("\r\033[Ktracing [" + "=" * progress.BAR_WIDTH + "] 10/10 glyphs")
    assert out.endswith("\n") and out.count("\r\033[K") == 3  # drawn, cleared, drawn at close


def test_switched_off_it_says_nothing(monkeypatch):
    monkeypatch.setenv(progress.ENV, "0")
    monkeypatch.setattr(progress, "FIRST_LINE_AFTER", 0.0)
    stream = io.StringIO()
    with Progress("x", 2, stream=stream, live=True) as bar:
        bar.update(2)
    assert stream.getvalue() == ""


def test_kgan_fit_on_a_terminal_draws_a_live_bar(tmp_path):
    settings = [a for kv in [*TINY, "train.steps=4"] for a in ("--set", kv)]
    command = [sys.executable, "-m", "keras_gan_cli.main", "fit", "--run-dir", "run", *settings]
    controller, terminal = pty.openpty()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    with subprocess.Popen(
        command, cwd=tmp_path, stderr=terminal, stdout=subprocess.DEVNULL, env=env
    ) as child:
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert child.wait(timeout=300) == 0
    os.close(controller)
    out = b"".join(chunks).decode("utf-8", "replace")
    assert "\r\x1b[Ktraining [" in out and "4/4 steps (100%)" in out, out[-2000:]
    assert "step 4/4" in out  # the progress lines still come, above the bar


@pytest.mark.parametrize("value", ["0", "off", "false"])
def test_the_switch_takes_the_usual_spellings(monkeypatch, value):
    monkeypatch.setenv(progress.ENV, value)
    assert not progress.enabled()
