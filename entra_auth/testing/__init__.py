"""A local Microsoft Entra ID emulator for tests and demos (work in progress)."""
