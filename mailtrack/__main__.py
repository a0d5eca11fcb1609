"""``python -m mailtrack`` runs the command line."""

from mailtrack.cli import main

main(prog_name="mailtrack")
