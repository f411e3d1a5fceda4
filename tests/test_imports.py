"""A Pulumi program imports pulumi_pingback on every preview: keep it light."""

from __future__ import annotations

import subprocess
import sys


def test_import_does_not_load_the_client_or_the_models() -> None:
    code = (
        "import sys, pulumi_pingback as p; "
        "print(sorted(m for m in ('httpx', 'pydantic', 'tenacity', 'pulumi_pingback.client._client', "
        "'pulumi_pingback.channels._models') if m in sys.modules)); "
        "p.PingBackClient; print('httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True"]
