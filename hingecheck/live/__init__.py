"""Live coaching: capture thread, session loop, window, recording, audio cues."""
