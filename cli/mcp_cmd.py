"""``sleuth mcp``: a Model Context Protocol server on stdio (``cli.mcp_server``).

The server and the SDK it is built on load only when the command runs: importing ``mcp``
takes ~0.4 s, which every other command (``sleuth --version`` included, which lists them all)
would otherwise pay.
"""

from __future__ import annotations

from typing import Annotated

import typer

from sleuth.cli.common import IndexOpt, ModelOpt, ThreadsOpt, location, make_embedder


def mcp(
    index_name: IndexOpt = None,
    allow_index: Annotated[
        bool, typer.Option("--allow-index", help="Offer an 'index' tool that writes the index.")
    ] = False,
    model: ModelOpt = None,
    threads: ThreadsOpt = None,
) -> None:
    """Serve the index to AI agents over the Model Context Protocol (stdio)."""
    import anyio

    from sleuth.cli.mcp_server import build, own_stdout, serve
    from sleuth.cli.mcp_tools import Tools

    loc = location(index_name)
    tools = Tools(loc.directory, index_name, lambda: make_embedder(model, threads), model)
    protocol_out = own_stdout()
    try:
        anyio.run(serve, build(tools, allow_index=allow_index), protocol_out)
    finally:
        tools.close()
