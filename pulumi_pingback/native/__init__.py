"""The native provider ``pingback``, for every Pulumi language: its gRPC server and entry
point (:mod:`._server`), its methods over the core (:mod:`._provider`) and its wire
(:mod:`._wire`: ``PropertyValue``, camelCase names, detailed diffs)."""

from ._server import main

__all__ = ["main"]
