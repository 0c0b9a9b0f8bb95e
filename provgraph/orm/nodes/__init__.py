"""Node and its Data and Process subclasses."""
