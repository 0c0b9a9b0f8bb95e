"""The ProcessNode classes."""
