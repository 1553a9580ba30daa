"""What a live session shows and says: the HUD state, tones and spoken cues, and the terminal lines.

One cue per fault: a fault flagged mid-rep is cued at once and not again when its rep ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hingecheck.core.coach import CoachUpdate, LiveCoach, LiveConfig, rep_cue, rep_verdict
from hingecheck.core.types import Fault, Rep
from hingecheck.live.audio import CuePlayer

PHASE_FOR_OVERLAY = {"standing": "stand", "lockout": "stand", "descent": "descent", "return": "return"}


class SessionFeedback:
    """The HUD dict the overlay draws, the cue player and the status lines (``say``) of one session."""

    def __init__(self, cfg: LiveConfig, player: CuePlayer, say: Callable[[str], None]) -> None:
        self.cfg = cfg
        self.player = player
        self.say = say
        self.hud: dict[str, Any] = {"reps": 0, "guidance": "", "verdict": "", "cue": "", "paused": False, "perf": ""}
        self.announced_faults: set[tuple[int, str]] = set()  # (rep index, fault code) already cued
        self.was_calibrated = False

    def on_update(self, update: CoachUpdate, coach: LiveCoach) -> None:
        """Cue what one frame brought (calibration done, early faults, finished reps) and refresh the HUD."""
        if update.state == "tracking" and not self.was_calibrated and coach.calibration is not None:
            self.was_calibrated = True
            c = coach.calibration
            self.say(f"calibrated on the stand at {c.start_s:.1f}–{c.end_s:.1f} s: start your reps")
            self.player.beep(self.cfg.tone_hz_good, self.cfg.tone_s, beeps=2)
            self.player.say("Calibrated. Start your reps.")
        for rep_index, fault in update.early_faults:  # a fault seen mid-rep: cue it now, not at the rep's end
            key = (rep_index, fault.code)
            if key not in self.announced_faults:
                self.announced_faults.add(key)
                self.flag_fault(fault)
        for rep in update.reps_done:
            self.finish_rep(rep)
        hud = self.hud
        hud["reps"] = sum(1 for r in coach.reps if not r.partial)
        hud["guidance"] = update.guidance
        hud["phase"] = PHASE_FOR_OVERLAY.get(update.phase or "standing", "stand")
        hud["rep"] = None if hud["phase"] == "stand" else len(coach.reps) + 1

    def flag_fault(self, fault: Fault) -> None:
        """Show and cue a fault found while its rep is still going."""
        self.hud["verdict"], self.hud["verdict_fault"], self.hud["cue"] = fault.message, True, fault.cue
        self.player.beep(self.cfg.tone_hz_fault, self.cfg.tone_s, beeps=2)
        self.player.say(fault.cue)

    def finish_rep(self, rep: Rep) -> None:
        """Print the rep's verdict, show it, and cue what was not cued while the rep was going."""
        verdict = rep_verdict(rep) + (" (cut off)" if rep.partial else "")
        self.say(verdict)
        self.hud["verdict"], self.hud["verdict_fault"], self.hud["cue"] = verdict, bool(rep.faults), rep_cue(rep)
        fresh = [f for f in rep.faults if (rep.index, f.code) not in self.announced_faults]
        if rep.faults and not fresh:
            return  # already cued while the rep was going
        if rep.faults:
            self.player.beep(self.cfg.tone_hz_fault, self.cfg.tone_s, beeps=2)
            self.player.say(fresh[0].cue)
        elif not rep.partial:
            self.player.beep(self.cfg.tone_hz_good, self.cfg.tone_s)

    def recalibrating(self, closed_reps: list[Rep]) -> None:
        """The user asked for a new baseline: report the rep it closed and ask for a still stand."""
        for rep in closed_reps:
            self.finish_rep(rep)
        self.was_calibrated = False
        self.say("recalibrating: stand still, side-on")

    def paused(self, paused: bool) -> None:
        """Show and say that the session paused or goes on."""
        self.hud["paused"] = paused
        self.say("paused: press space to go on" if paused else "going on")
