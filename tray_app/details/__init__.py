"""The details window: a small Tk window in its own process, drawn from the database."""
