"""Helpers shared by the tests: mail builders, fakes at the seams, runtimes on temp databases."""
