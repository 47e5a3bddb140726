"""The pure domain: what a reported fact is. Imports neither web nor SQL."""
