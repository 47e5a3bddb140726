"""Official statements, quoted verbatim."""
