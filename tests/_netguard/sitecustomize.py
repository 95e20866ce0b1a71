"""Started Pythons of the test suite get the same network guard as pytest (see entra_netguard)."""

try:
    import entra_netguard

    entra_netguard.install(parent=False)
except Exception as exc:  # never break an interpreter's start-up
    import sys

    print(f"entra_netguard not installed: {exc}", file=sys.stderr)
