"""Technology library (area/energy per component by process node). See :mod:`.library`."""

from .library import Technology, list_nodes, load

__all__ = ["Technology", "load", "list_nodes"]
