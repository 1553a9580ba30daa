"""hingecheck: hip-hinge form checking from one side-view camera."""

__version__ = "0.1.0"
