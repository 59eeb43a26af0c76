"""Running the CLI in-process with captured, separate stdout and stderr."""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from typing import Any

from sleuth.cli.app import run


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


def sleuth(*args: str, stdin: str = "") -> Result:
    saved = sys.stdin, sys.stdout, sys.stderr
    out, err = io.StringIO(), io.StringIO()
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        code = run(list(args))
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return Result(int(code), out.getvalue(), err.getvalue())
