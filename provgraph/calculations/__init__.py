"""Built-in CalcJob plugins under AiiDA's names (``aiida.calculations`` → ``provgraph.calculations``)."""
