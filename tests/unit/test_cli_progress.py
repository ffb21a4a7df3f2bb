"""The transfer bar of `images copy`/`mirror`: shown on a terminal, silent in pipes and JSON."""

from __future__ import annotations

import io

from airlock.cli import _Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_counts_bytes_on_a_terminal(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with _Progress(False, "copying example") as advance:
        assert advance is not None
        advance(1_000_000)
        advance(500_000)
    assert "copying example" in terminal.getvalue() and "1.5" in terminal.getvalue()


def test_no_bar_in_pipes_or_for_json(monkeypatch):
    monkeypatch.setattr("sys.stderr", io.StringIO())
    with _Progress(False, "x") as advance:
        assert advance is None
    monkeypatch.setattr("sys.stderr", Terminal())
    with _Progress(True, "x") as advance:
        assert advance is None
