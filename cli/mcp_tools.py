"""What ``sleuth mcp``'s tools do, apart from the protocol (``cli.mcp_server`` wires them up).

``search``, ``similar`` and ``status`` run the ordinary commands with ``--json``: on the
index's ``sleuth serve`` (or watcher) when one answers, else on a worker thread of this
process that keeps its own searcher warm. So an agent gets exactly what ``sleuth search
--json`` prints, as typed records. ``read`` returns lines of an indexed file, numbered as
hits number them (a PDF's stored text, never extracted again); it refuses any other path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sleuth.cli.client import environment, exchange, socket_path
from sleuth.cli.server import Worker
from sleuth.cli.service import Service
from sleuth.cli.wire import VERSION
from sleuth.indexer.embedder import Embedder
from sleuth.indexer.source import indexed_text

MAX_READ_LINES = 2000


class ToolFailure(Exception):
    """A tool's one-line error for the agent (bad input, no index, a path not indexed)."""


class Tools:
    def __init__(
        self,
        directory: Path,
        index_name: str | None,
        make_embedder: Callable[[], Embedder],
        model: Path | None,
    ) -> None:
        self.directory = directory
        self._index_flags = ["--index", index_name] if index_name else []
        self._model_flags = ["--model", str(model)] if model else []
        self.worker = Worker(
            lambda: Service(directory, make_embedder, model=model, plain_fallback=True)
        )
        self.served_remotely = 0  # answers that came from a running server

    def close(self) -> None:
        self.worker.close()

    def run(self, argv: Sequence[str]) -> tuple[int, str, str]:
        """(exit code, stdout, stderr) of ``sleuth ARGV`` on this tool's index."""
        split = list(argv).index("--") if "--" in argv else len(argv)
        full = [*argv[:split], *self._index_flags, *self._model_flags, *argv[split:]]
        request: dict[str, Any] = {
            "v": VERSION,
            "op": "run",
            "argv": full,
            "cwd": str(Path.cwd()),
            "environ": {**environment(False), "NO_COLOR": "1"},
            "stdin": None,
            "stdout": {"tty": False, "encoding": "utf-8", "errors": "strict"},
            "stderr": {"tty": False, "encoding": "utf-8", "errors": "strict"},
        }
        reply = exchange(self.directory, request) if socket_path(self.directory).exists() else None
        if reply is None or "code" not in reply:
            reply = self.worker.call(request)
        else:
            self.served_remotely += 1
        out = "".join(text for number, text in reply["out"] if number == 1)
        err = "".join(text for number, text in reply["out"] if number == 2)
        return int(reply["code"]), out, err

    def hits(self, argv: Sequence[str], subject: str) -> dict[str, Any]:
        """Hits of ``sleuth ARGV SUBJECT`` as JSON records; the subject comes after ``--``,
        so a query or path that starts with "-" is never read as an option."""
        code, out, err = self.run([*argv, "--format", "json", "--", subject])
        if code == 2:
            raise ToolFailure(_first_error(err))
        hits = [json.loads(line) for line in out.splitlines() if line.strip()]
        notes = [line for line in err.splitlines() if line.strip()]
        return {"hits": hits, "notes": notes}

    def search(
        self,
        query: str,
        k: int,
        mode: str,
        min_score: float | None,
        glob: Sequence[str],
        kind: Sequence[str],
        path_prefix: Sequence[str],
        changed_within: str | None,
    ) -> dict[str, Any]:
        argv = ["search", "-k", str(k), "--mode", mode]
        if min_score is not None:
            argv += ["--min-score", repr(min_score)]
        for pattern in glob:
            argv += ["--glob", pattern]
        for name in kind:
            argv += ["--type", name]
        for prefix in path_prefix:
            argv += ["--path-prefix", prefix]
        if changed_within:
            argv += ["--changed-within", changed_within]
        return self.hits(argv, query)

    def similar(
        self, path: str, lines: str | None, k: int, min_score: float | None, include_self: bool
    ) -> dict[str, Any]:
        argv = ["similar", "-k", str(k)]
        if lines:
            argv += ["--lines", lines]
        if min_score is not None:
            argv += ["--min-score", repr(min_score)]
        if include_self:
            argv.append("--include-self")
        return self.hits(argv, path)

    def status(self) -> dict[str, Any]:
        code, out, err = self.run(["status", "--json"])
        if code != 0 or not out.strip():
            raise ToolFailure(_first_error(err))
        info: dict[str, Any] = json.loads(out.splitlines()[0])
        return info

    def read(self, path: str, line_start: int, line_end: int | None) -> dict[str, Any]:
        if line_start < 1 or (line_end is not None and line_end < line_start):
            raise ToolFailure(f"bad line range {line_start}-{line_end}")
        wanted = os.path.abspath(path)  # noqa: PTH100 - the catalog stores abspath's form
        last = line_start + MAX_READ_LINES - 1 if line_end is None else line_end

        def job(service: Service) -> dict[str, Any]:
            try:
                index = service.searcher().index
            except Exception as exc:
                raise ToolFailure("the index is not there (yet?): run sleuth index") from exc
            with index.snapshot():
                found = indexed_text(index.catalog, wanted)
            if found is None:
                raise ToolFailure(f"not in the index: {path}")
            lines = found.text.split("\n")
            if lines and lines[-1] == "":
                lines.pop()  # a final newline ends the last line; it starts none
            end = min(last, len(lines), line_start + MAX_READ_LINES - 1)
            return {
                "path": found.record.path,
                "kind": found.record.kind,
                "line_start": line_start,
                "line_end": max(end, line_start - 1),
                "total_lines": len(lines),
                "text": "\n".join(lines[line_start - 1 : end]),
                "stale": found.stale,
            }

        return self.worker.do(job)

    def index(self, paths: Sequence[str]) -> dict[str, Any]:
        code, out, err = self.run_local(["index", "--json", "--quiet", "--", *paths])
        if code != 0:
            raise ToolFailure(_first_error(err))
        summary: dict[str, Any] = json.loads(out.splitlines()[-1])
        return summary

    def run_local(self, argv: Sequence[str]) -> tuple[int, str, str]:
        """A command no server runs (``index``), on the worker thread of this process."""

        def job(service: Service) -> tuple[int, str, str]:
            reply = service.execute(
                {
                    "argv": [argv[0], *self._index_flags, *self._model_flags, *argv[1:]],
                    "cwd": str(Path.cwd()),
                    "environ": {**environment(False), "NO_COLOR": "1"},
                },
                commands=("index",),
            )
            out = "".join(t for n, t in reply["out"] if n == 1)
            err = "".join(t for n, t in reply["out"] if n == 2)
            return int(reply["code"]), out, err

        return self.worker.do(job)


def _first_error(err: str) -> str:
    for line in err.splitlines():
        if line.strip():
            return line.removeprefix("sleuth: error: ")
    return "the command failed"
