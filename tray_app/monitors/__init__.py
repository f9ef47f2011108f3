"""The sources' services: each turns requests and stored figures into a report, errors into states.

code.py (Claude Code's usage endpoint), console.py (the Admin API), web.py (claude.ai with a browser
session); policy.py is what an error means for all three.
"""
