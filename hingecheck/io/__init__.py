"""Edges that read and write: video (PyAV), pose (MediaPipe), the pose cache, output writers."""
