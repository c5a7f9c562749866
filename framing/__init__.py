"""Framing differences between two language versions of a story, and the HTML report."""
