"""``python -m pulumi_pingback.command``: the ``pingback`` command."""

from ._main import console

console()
