"""pytest plugin (entry point ``pytest11``): fixtures that run the Entra ID emulator."""
