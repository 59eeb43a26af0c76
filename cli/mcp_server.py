"""The Model Context Protocol server behind ``sleuth mcp`` (stdio), for agents and editors.

Built with the official SDK's FastMCP. Tools: ``search``, ``similar``, ``status``, ``read``
(and ``index`` with ``--allow-index``); see ``cli.mcp_tools``. stdout carries the protocol
and nothing else: the protocol gets its own copy of fd 1, and fd 1 itself then points at
stderr, so no stray write (Python's or a C library's) can corrupt a message.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Annotated, Any, Literal

import anyio
from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.server.stdio import stdio_server
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from sleuth.cli.mcp_tools import ToolFailure, Tools

INSTRUCTIONS = (
    "sleuth searches the user's local files (notes, docs, code, PDFs) by meaning and by "
    "words. Use `search` with a natural-language query; each hit has a path, a line range "
    "(and a PDF page), a snippet and a calibrated relevance score (0..1). Use `read` to see "
    "more lines of a hit's file, `similar` for passages like a file or lines of it, `status` "
    "for what the index holds."
)
READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False)


class Hit(BaseModel):
    path: str = Field(description="Absolute path of the file")
    line_start: int = Field(description="First line of the chunk (1-based)")
    line_end: int = Field(description="Last line of the chunk (inclusive)")
    page: int | None = Field(description="PDF page, or null")
    snippet: str = Field(description="The lines that best match the query")
    snippet_line: int = Field(description="Line number of the snippet's first line")
    score: float = Field(description="Calibrated probability that the hit is relevant, 0..1")
    similarity: float | None = Field(description="Cosine between query and chunk, or null")
    coverage: float | None = Field(description="Share of the query's words in the chunk")
    nearby_similarity: float | None = Field(
        default=None, description="Mean cosine between query and the file's chunks, or null"
    )
    literal: float | None = Field(
        default=None, description="Share of the query's identifiers and quoted phrases found"
    )
    kind: str = Field(description="md, code, pdf, text, html, docx, ipynb, eml, ...")
    context: str = Field(description="File name and heading path or definition name")
    chunk_id: int
    mode: str


class Hits(BaseModel):
    hits: list[Hit]
    notes: list[str] = Field(description="Why nothing (more) was found, warnings")


class Lines(BaseModel):
    path: str
    kind: str
    line_start: int
    line_end: int = Field(description="Last line returned (may be less than asked)")
    total_lines: int
    text: str = Field(description="The lines, joined with newlines")
    stale: bool = Field(description="The file changed since it was indexed: re-index")


Query = Annotated[str, Field(min_length=1, description="What to look for, in plain words")]
K = Annotated[int, Field(ge=1, le=100, description="Number of results")]
MinScore = Annotated[
    float | None,
    Field(ge=0.0, le=1.0, description="Relevance floor (default: calibrated; 0 shows all)"),
]
Mode = Annotated[
    Literal["hybrid", "semantic", "lexical"],
    Field(description="hybrid (default), semantic (meaning only) or lexical (words only)"),
]
Globs = Annotated[
    list[str], Field(description="Only paths matching (gitignore syntax, '!PAT' excludes)")
]
Kinds = Annotated[list[str], Field(description="Only these kinds: md, pdf, code, py, ...")]


def build(tools: Tools, *, allow_index: bool) -> FastMCP[Any]:
    server: FastMCP[Any] = FastMCP("sleuth", instructions=INSTRUCTIONS, log_level="WARNING")

    async def call(job: Any) -> Any:
        try:
            return await anyio.to_thread.run_sync(job)
        except ToolFailure as exc:
            raise ToolError(str(exc)) from None

    @server.tool(annotations=READ_ONLY)
    async def search(
        query: Query,
        k: K = 10,
        mode: Mode = "hybrid",
        min_score: MinScore = None,
        glob: Globs | None = None,
        kind: Kinds | None = None,
        path_prefix: Annotated[list[str] | None, Field(description="Only under these")] = None,
        changed_within: Annotated[str | None, Field(description="e.g. 30m, 12h, 7d")] = None,
    ) -> Hits:
        """Search the user's indexed files by meaning and words; best hits first."""
        found = await call(
            lambda: tools.search(
                query,
                k,
                mode,
                min_score,
                glob or [],
                kind or [],
                path_prefix or [],
                changed_within,
            )
        )
        return Hits.model_validate(found)

    @server.tool(annotations=READ_ONLY)
    async def similar(
        path: Annotated[str, Field(min_length=1, description="A file, indexed or not")],
        lines: Annotated[str | None, Field(description="Only lines A-B of it")] = None,
        k: K = 10,
        min_score: MinScore = None,
        include_self: Annotated[bool, Field(description="Keep the file's own chunks")] = False,
    ) -> Hits:
        """Passages most similar to a file, or to lines of it."""
        found = await call(lambda: tools.similar(path, lines, k, min_score, include_self))
        return Hits.model_validate(found)

    @server.tool(annotations=READ_ONLY)
    async def status() -> dict[str, Any]:
        """What the index holds: files, chunks, roots, footprint, model, stale files."""
        info: dict[str, Any] = await call(tools.status)
        return info

    @server.tool(annotations=READ_ONLY)
    async def read(
        path: Annotated[str, Field(min_length=1, description="An indexed file (a hit's path)")],
        line_start: Annotated[int, Field(ge=1, description="First line (1-based)")] = 1,
        line_end: Annotated[int | None, Field(ge=1, description="Last line (inclusive)")] = None,
    ) -> Lines:
        """Lines of an indexed file, numbered as hits number them (PDFs: their stored text)."""
        found = await call(lambda: tools.read(path, line_start, line_end))
        return Lines.model_validate(found)

    if allow_index:

        @server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False))
        async def index(
            paths: Annotated[list[str], Field(min_length=1, description="Folders or files")],
        ) -> dict[str, Any]:
            """Index (or update the index of) folders and files; returns the summary."""
            summary: dict[str, Any] = await call(lambda: tools.index(paths))
            return summary

    return server


def own_stdout() -> io.TextIOWrapper:
    """A text stream on a copy of fd 1 for the protocol; fd 1 then points at stderr."""
    sys.stdout.flush()
    protocol = os.dup(1)
    os.dup2(2, 1)
    return io.TextIOWrapper(os.fdopen(protocol, "wb"), encoding="utf-8", line_buffering=True)


async def serve(server: FastMCP[Any], out: io.TextIOWrapper) -> None:
    low = server._mcp_server  # FastMCP's own stdio runner offers no way to pass streams
    async with stdio_server(stdout=anyio.wrap_file(out)) as (read_stream, write_stream):
        await low.run(read_stream, write_stream, low.create_initialization_options())
