"""The command line: argument parsing and printing only (``hingecheck.cli.main:main``)."""
