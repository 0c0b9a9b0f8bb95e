"""Built-in CalcJob monitors (entry point group ``provgraph.calculations.monitors``)."""
