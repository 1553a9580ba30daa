"""One short, plain coaching sentence per fault code: what to do on the next rep."""

from __future__ import annotations

CUES: dict[str, str] = {
    "spinal_flexion_takeover": "Push your hips back further and keep your back long.",
    "extension_from_low_back": "Stand up by squeezing your glutes, not by arching your back.",
    "lockout_hyperextension": "Finish tall: stop when you are upright, don't lean back.",
    "knee_dominant": "Keep your shins more vertical: send the hips back, not down.",
}


def cue_for(code: str) -> str:
    """The cue for a fault code (an unknown code gets a generic, still actionable sentence)."""
    return CUES.get(code, "Move slowly and keep the motion at the hips.")
