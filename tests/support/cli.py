"""Run the ``airlock`` command in-process, capturing what it writes."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

from airlock.cli import main


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """Both streams, stdout first (for assertions that do not care which)."""
        return self.stdout + self.stderr


def run_cli(*args: str) -> CliResult:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse usage errors and --help
            code = exit_.code if isinstance(exit_.code, int) else 2
    return CliResult(code, stdout.getvalue(), stderr.getvalue())
