"""Helpers shared by several formats (no format imports another format's module for them)."""
