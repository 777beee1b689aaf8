"""pre-commit hooks: one module per hook, each with `main(argv) -> int` and a console script.

Hooks are fast and offline, touch only the files they are given, and report findings as
`path:line: message` on stdout (pre-commit shows a hook's output when it fails).
"""
