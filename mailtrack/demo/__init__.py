"""The demo: the whole loop on the embedded default, in a temporary folder, with no server."""
