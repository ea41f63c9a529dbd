"""The HTTP shell: the REST API, health and the provider callbacks."""
