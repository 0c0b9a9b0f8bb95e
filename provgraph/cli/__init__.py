"""The provgraph command line (click)."""
