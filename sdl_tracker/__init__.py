"""sdl-tracker: IEC 62443-4-1 secure development lifecycle evidence from a git repository."""

__version__ = "0.1.0"
