"""The one read pipeline of every view: head, ETag and 304, caches, JSON/CSV/GeoJSON."""
