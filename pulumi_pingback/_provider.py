"""Where stacks written by pulumi-pingback 0.3 and earlier find their provider.

Every dynamic resource's state holds its provider pickled by reference; before 0.4 the
reference was ``pulumi_pingback._provider.PingBackChannelProvider``, and ``pulumi
refresh`` and ``destroy`` unpickle it from the outputs the last ``up`` wrote. Newer
states name ``pulumi_pingback.PingBackChannelProvider`` (:mod:`.dynamic._provider`), a
path that does not move. Keep this module while such stacks may exist
(``tests/test_provider.py::test_a_provider_pickled_by_0_3_still_loads``).
"""

from .dynamic._provider import PingBackChannelProvider

__all__ = ["PingBackChannelProvider"]
