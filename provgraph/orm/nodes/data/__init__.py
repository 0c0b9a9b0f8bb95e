"""The Data node classes."""
