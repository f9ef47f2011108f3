"""Adapters that talk HTTP or read credentials; the only place that imports requests."""
