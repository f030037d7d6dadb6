"""Subcommands of the ``autoscale`` command line, one module each."""
