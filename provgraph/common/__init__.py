"""Pure helpers with no provgraph imports beyond exceptions: JSON cleaning, link rules, hashing."""
