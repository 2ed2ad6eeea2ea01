"""``python -m dc43_delta_store``: the command line."""

from .cli import main

main()
