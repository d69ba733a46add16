"""Pure rules: names, limits, types. Standard library only."""
