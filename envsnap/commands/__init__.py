"""One module per verb; each offers ``add_parser(subparsers, common)`` and ``run(args) -> int``."""
