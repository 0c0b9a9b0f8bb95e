"""provgraph: graph-native provenance for computational-science workflows.

The public API is small; each name lives in the subpackage its name says.
"""

from __future__ import annotations

from provgraph.profiles import Profile, get_profile, load_profile

__version__ = "0.1.0"

__all__ = ["Profile", "__version__", "get_profile", "load_profile"]
