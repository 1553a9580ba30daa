"""Drawing: annotated frames (overlay) and plots."""
