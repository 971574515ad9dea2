"""Everything HTTP: the resolver, problem details, the caller from JWT claims, cursors and wire schemas."""
