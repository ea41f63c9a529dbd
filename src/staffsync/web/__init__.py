"""The admin web UI: server-rendered Jinja2 pages with htmx, on the same application as the REST API."""
