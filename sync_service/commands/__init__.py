"""Command and query handlers. Each module registers its handlers with the registry on import;
`load_all()` imports them all (the server calls it once at start)."""
