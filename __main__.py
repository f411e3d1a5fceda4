"""The native provider ``pingback``, as the Pulumi CLI starts a Python plugin from source.

``python <this directory> <engine address>`` (see PulumiPlugin.yaml); the same server as
the ``pulumi-resource-pingback`` command an installed package provides.
"""

from pulumi_pingback.native import main

main()
