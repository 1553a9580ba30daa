"""Batch review: discovery and planning, workers and executors, the SQLite store, trends, dashboard."""
