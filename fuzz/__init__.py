"""The fuzz command: the property tests of tests/property with many more examples."""
