"""The pure core: standard library only; no I/O, threads or wall clock."""
