"""The desk: pages at `/` for people who read the numbers, rendered on the server.

Each page asks the read models in-process (as the v1 routers do) for one view, and
renders it with Jinja2: no JavaScript, nothing fetched from outside the service.
"""
