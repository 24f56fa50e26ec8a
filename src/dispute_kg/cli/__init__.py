"""The command line: `main` (the click group, one module per command family named after it) and
`fastpath` (a click-free parser for a plain `query run`). This file imports nothing, so the quick
route loads only what it runs."""
