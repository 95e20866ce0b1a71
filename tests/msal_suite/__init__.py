"""msal 1.39's own unit tests, run against entra_auth (``import entra_auth as msal``)."""
