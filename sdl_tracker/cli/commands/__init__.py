"""One module per sub-command; each takes typed keyword arguments and returns an exit code."""
