"""One module per OAuth 2.0 grant; :mod:`.common` posts a grant and writes the cache."""
