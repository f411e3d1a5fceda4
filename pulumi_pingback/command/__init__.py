"""The ``pingback`` command: a business's channels, and a Pulumi project that adopts them.

Modules: :mod:`._main` (the parser, exit codes), :mod:`._terminal` (every line through
one inert stream; progress, log lines, the errors that set the exit code),
:mod:`._channels` (the listing both commands share; ``pingback channels``),
:mod:`._export` (``pingback export``), :mod:`._codegen` (the program it writes, built
and verified). ``python -m pulumi_pingback.command`` runs it.
"""

from ._main import console, main

__all__ = ["console", "main"]
