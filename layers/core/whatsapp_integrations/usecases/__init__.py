"""One module per use case; each takes the caller, its input and the services it needs."""
