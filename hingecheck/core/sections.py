"""The sections of the settings schema: one frozen dataclass per ``[section]``, each field's default with its source.

``hingecheck.core.settings`` gathers them (with the exercise profiles of ``core.profiles``) into ``Settings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hingecheck.core.errors import HingecheckError


class ConfigError(HingecheckError):
    """A settings file or value that cannot be used (one line naming the key)."""

    status = "config_error"


def setting(default: Any, doc: str, *, choices: tuple[str, ...] | None = None) -> Any:
    """A schema field: its default, where the value comes from, and (for text) the values allowed."""
    return field(default=default, metadata={"doc": doc, "choices": choices})


@dataclass(frozen=True)
class PoseConfig:
    """[pose] MediaPipe PoseLandmarker. num_poses = 1 (default) tracks one person: the same pose input as live mode, so
    live and analyze read the same angles, at ~0.55x the cost per frame of num_poses = 2. A two-person detector
    looks crowd_check_hz times a second; when a second person is in view in more than crowd_share of those looks,
    the clip is analysed again with num_poses = 2, which keeps the lifter (largest, steadiest person) and warns that
    someone else is in view. Setting num_poses = 2 does that on every frame.
    """

    num_poses: int = setting(1, "people MediaPipe tracks in the main pass (1: the same pose input as live mode)")
    min_confidence: float = setting(
        0.5,
        "MediaPipe detection, presence and tracking confidence floor (its own default)",
    )
    crowd_check: bool = setting(True, "look for a second person with a two-person detector (num_poses = 1 only)")
    crowd_check_hz: float = setting(2.0, "looks per second of video for a second person")
    crowd_share: float = setting(
        0.1,
        "share of looks with a second person in view above which the clip is analysed again with num_poses = 2",
    )


@dataclass(frozen=True)
class RepConfig:
    """[reps] Rep segmentation (hingecheck/core/movement/reps.py). Degrees of the drive signal (hip flexion; trunk
    inclination where the hip is not measured) above the running standing baseline. Project choices, tuned on the
    synthetic devset with measurement noise added; a hinge worth counting goes well past min_depth_deg (waiter's
    bow: 50–70° hip flexion, Luomajoki 2007; stoops in the devset reach 27–44°).
    """

    start_deg: float = setting(
        10.0,
        "leaving standing starts a rep candidate (its start is placed back at the last standing frame)",
    )
    standing_tol_deg: float = setting(
        3.0,
        "within this of the baseline (either way) counts as standing (feeds the baseline) ...",
    )
    standing_lean_tol_deg: float = setting(
        4.0,
        "... unless the trunk is this far behind the standing trunk: a lean back is not standing",
    )
    place_deg: float = setting(
        1.5,
        "a rep starts at the last frame this close to standing before it, ends at the first after it",
    )
    end_deg: float = setting(8.0, "back below this: the return has reached the top (hysteresis against start_deg)")
    min_depth_deg: float = setting(20.0, "a candidate becomes a rep once this deep ...")
    min_descent_s: float = setting(0.2, "... and at least this long after it left standing (a pose glitch is shorter)")
    min_trunk_deg: float = setting(
        10.0,
        "... and the trunk (hip→shoulder landmarks) has inclined this far from standing: every hinge inclines it "
        "(the shallowest real lifts 30–45°), an outline glitch that moves the hip drive alone does not (a phantom "
        "0.4 s rep on a real clip: outline hip 28°, learned hip −1°, trunk 2°)",
    )
    return_min_deg: float = setting(
        6.0,
        "the return is confirmed once the drive has dropped this far below its peak ...",
    )
    return_fraction: float = setting(
        0.2,
        "... or this fraction of the rep's depth, whichever is larger (pauses and noise at the bottom)",
    )
    bottom_band_deg: float = setting(
        4.0,
        "the bottom/hold is where the drive and trunk are within this of their peaks ...",
    )
    bottom_band_fraction: float = setting(0.06, "... or this fraction of the depth")
    rebound_deg: float = setting(
        12.0,
        "rising this much again in the lower half of a return: touch-and-go, the next rep began",
    )
    lockout_s: float = setting(0.4, "after the return, this long to judge the lockout before the rep is reported ...")
    lockout_max_s: float = setting(
        2.0,
        "... or longer while the trunk leans back past standing_lean_tol_deg, up to this",
    )
    max_gap_s: float = setting(1.0, "a gap in the measurements longer than this cuts a rep (reported partial)")
    max_rep_s: float = setting(30.0, "a rep still going after this long is cut (someone resting bent over)")
    # Reps whose top is out of view (core/movement/unseen_top.py; used only where a shot has no standing
    # reference). Measured on five close gym deadlifts (YFGD bad 01/04/05/06/07): the lifter is lost for
    # 0.8–3 s at lockout, the shoulders rise 0.3–0.5 trunk lengths in the second before, the trunk is 55–63°
    # from vertical at the bar and 58–71° again after; a lockout glimpse lasts 1–2 frames.
    unseen_top_min_s: float = setting(0.3, "a top out of view lasts at least this long (shorter: a missed frame) ...")
    unseen_top_max_s: float = setting(6.0, "... and at most this long (longer: the lifter walked away)")
    unseen_top_rise_window_s: float = setting(1.0, "before it, within this long ...")
    unseen_top_rise_l: float = setting(
        0.2, "... the shoulders rose at least this many trunk lengths in the picture (the pull) ..."
    )
    unseen_top_bent_deg: float = setting(
        30.0, "... from a trunk bent at least this far from vertical, and bent this far again after it ..."
    )
    unseen_top_return_s: float = setting(1.5, "... within this long of the lifter coming back into view")
    unseen_top_end_rise_deg: float = setting(
        15.0,
        "a clip that ends during such a pull (a partial rep) shows the trunk coming up at least this much (PoseReader's"
        " RDL from the knees: 77° → 45°)",
    )
    unseen_top_glimpse_s: float = setting(
        0.15, "measured stretches shorter than this inside it are glimpses of the top, not the lifter back"
    )
    lookback_s: float = setting(3.0, "frames kept before a rep starts (to place its start)")
    drive_average_s: float = setting(
        0.07,
        "decisions use the drive averaged over this long (3 frames at 30 fps): a peak of raw samples over-reads",
    )
    baseline_window_s: float = setting(1.0, "standing reference: median of the last second of standing")
    max_baseline_deg: float = setting(10.0, "the standing baseline may drift at most this far from the calibrated zero")
    max_drive_speed_deg_s: float = setting(
        600.0,
        "hip or trunk moving faster than this between frames is a pose glitch, not a body: a hinge moves them"
        " ≤ ~200°/s (ground truth ≤ 190°/s, measured ≤ 300°/s on the stress set)",
    )
    glitch_settle_s: float = setting(
        0.25,
        "frames this long after a glitch jump are dropped too (smoothing smears it; 0.3 s window)",
    )


@dataclass(frozen=True)
class FaultConfig:
    """[faults] Fault rules (hingecheck/core/movement/faults.py). All angles are changes within the rep from the
    standing just before it: absolute lumbar angles from a silhouette over-read deep hinges (≈10° at 80° hip
    flexion, docs/DESIGN.md §3), so rules use change, shares and timing rather than absolute lumbar angles.
    """

    sustain_s: float = setting(
        0.1,
        "a condition must hold this long before it is a fault, from the first frame of its run to the last (4 "
        "frames at 30 fps, 3 at 15 fps). Counting each frame's own interval instead (3 and 2 frames) doubled the "
        "low-back false alarms on the training bodies' out-of-fold readings (13 -> 27)",
    )
    lumbar_onset_deg: float = setting(
        10.0,
        "spinal_flexion_takeover: the hinge capacity is the hip flexion where lumbar flexion first passed "
        "this. Waiter's bow passes with 50–70° hip flexion and no lumbar flexion (Luomajoki 2007)",
    )
    lumbar_tolerance_deg: float = setting(
        15.0,
        "lumbar flexion beyond this during the descent is a takeover. Healthy *full* forward bends reach "
        "40–60° lumbar (Esola 1996, Tafazzol 2014, Laird 2019); a hinge keeps the spine near neutral, so 15° "
        "(a quarter to a third of the full range) is past it. Kept below the devset's 20° label line: the "
        "silhouette under-reads a stoop's lumbar by ~20% (19° measured for 23° true); the share below "
        "separates deep good hinges",
    )
    spine_tolerance_deg: float = setting(
        30.0,
        "whole-back flexion (the hip→shoulder line's inclination minus the outline's pelvic tilt: lumbar and "
        "thoracic together) beyond this is a takeover when the outline's lumbar window cannot be trusted (loose "
        "clothing: the fabric, not the spine, shapes it). Measured on real kettlebell deadlifts, one lifter in a "
        "hoodie (TBY66): correct reps 18.5–27.8°, rounded 35.0–55.5°; YFGD good floor deadlifts ≤ 30.1°",
    )
    range_share_tolerance: float = setting(
        0.6,
        "with the person's own range measured (hingecheck calibrate), a takeover is flexion beyond this share of "
        "their full forward bend, on the same measure (lumbar window or whole back). Project choice: good real "
        "lifts already use a large share of the range (the population tolerances above are 25–40 % of a 40–60° "
        "lumbar range, set for rendered ideal hinges), so more than three fifths of one's own full bend is past "
        "what a coach calls a neutral, braced back",
    )
    min_lumbar_share: float = setting(
        0.35,
        "... and the lumbar carries at least this share of lumbar + pelvic tilt (of trunk motion when pelvic "
        "tilt is not measured). A healthy full bend shares ≈0.4–0.5 (40–60° lumbar vs 50–70° pelvis: Esola "
        "1996, Tafazzol 2014); a hinge far less. The share guards deep good hinges against the lumbar over-"
        "read",
    )
    share_min_motion_deg: float = setting(8.0, "no share below this much lumbar + pelvic motion (a ratio of noise)")
    bottom_zone_deg: float = setting(
        4.0,
        "extension_from_low_back is judged at the START of the return, because the lumbar/pelvis ratio is "
        "normally high early in the descent and at the END of the return (Esola 1996; Tafazzol 2014). The "
        "bottom zone: hip flexion within this of the rep's maximum",
    )
    onset_average_s: float = setting(
        0.15,
        "hip and lumbar are averaged over this long first (a maximum of noisy samples over-reads)",
    )
    return_lumbar_extension_deg: float = setting(8.0, "the lumbar extends this much from its bottom-zone maximum ...")
    return_hip_still_deg: float = setting(5.0, "... while the hips have extended less than this ...")
    return_hip_per_lumbar: float = setting(
        0.6,
        "... plus this many degrees per degree of lumbar extension: the low back led the return. A "
        "silhouette's pelvis reading follows the lumbar (0.3–0.8°/° measured on the devset), a hip-led return"
        " has moved the hips ≥ 1.5°/° when the lumbar has 8°",
    )
    return_onset_fraction: float = setting(
        0.2,
        "only the early return is judged: the hips have done less than this fraction of the rep's depth (LB "
        "onsets measured ≤ 14% when the lumbar has 8°, hip-led returns ≥ 23%)",
    )
    return_confirm_deg: float = setting(
        3.5,
        "where the timing is read on the outline fit, the learned lumbar reading (steady, but it flattens fast "
        "changes: a 15° arch read as 4°) must also have extended this much from its bottom-zone maximum: the "
        "outline fit alone jumps ±10° between frames on some bodies. The largest that loses no return found at "
        "3° on the 830 training bodies' out-of-fold readings (207 of 238 found, other reps flagged 21 → 20; 4° "
        "loses one; tools/rules_on_corpus.py)",
    )
    return_change_lumbar_deg: float = setting(
        10.5,
        "or, early in the return as the learned hip reads it (return_change_onset_fraction): the learned "
        "reading's change over its window (0.4 s; lumbar_change_deg) has the lumbar extending this much ... "
        "(on the 830 training bodies' out-of-fold readings 10° finds 2 more of 238 returns than 10.5°, but live "
        "reads the change a little wider than analyze and 10° raised a false alarm there on a devset takeover rep, "
        "dev_02 rep 1; 10.5° was the stop-14 choice on 650 bodies; tools/rules_on_corpus.py)",
    )
    return_change_hip_still_deg: float = setting(3.0, "... while the hip extended less than this ...")
    return_change_hip_per_lumbar: float = setting(
        1.1,
        "... plus this many degrees per degree of the lumbar's. Chosen on the training bodies' out-of-fold "
        "changes (482 reps, 120 low-back returns): 98 found, no other rep flagged; the change of one frame's "
        "reading from another cancels the body's shape, which one frame confuses with posture",
    )
    return_change_onset_fraction: float = setting(
        0.3,
        "the changes are judged while the learned hip has done less than this fraction of the rep's depth. "
        "Chosen by running the rules on the training bodies' out-of-fold readings (tools/rules_on_corpus.py; 120 "
        "low-back returns): with "
        "the outline fit's 0.2 window the changes found none the outline fit missed; 0.3 found 3 more for one "
        "more false alarm, 0.4 6 more for 8",
    )
    lead_deg: float = setting(3.0, "lumbar_lead_s compares when hip and lumbar have each extended this much")
    lockout_lean_back_deg: float = setting(
        8.0,
        "lockout_hyperextension: leaning back past standing at the top (the rep's end and lockout_s after "
        "it): trunk inclination this far behind standing ...",
    )
    lockout_behind_vertical_deg: float = setting(
        0.0,
        "... and, where the standing reference's own inclination is known, the trunk at least this far behind the "
        "picture's vertical: someone who stood hunched to calibrate (head down behind the bar, 13–19° forward: "
        "PoseReader) passes that stance at an upright lockout without leaning back ...",
    )
    lockout_lumbar_extension_deg: float = setting(
        12.0,
        "... or the lumbar this far more arched than standing. Laird 2019's recipe (outside the 10th–90th "
        "centile of a pain-free group) is the way to refine both",
    )
    lockout_arch_lean_deg: float = setting(
        4.0,
        "... with the trunk at least this far behind standing too: the outline's lumbar alone scatters 3–10° (SD) "
        "between rep tops in loose clothing (TBY66), the trunk line ≤ 3°",
    )
    min_lumbar_coverage: float = setting(
        0.5,
        "below this share of rep frames with lumbar measured, the rep's lumbar fields are left empty",
    )


@dataclass(frozen=True)
class LiveConfig:
    """[live] Calibration: hold a still, upright, side-on stand this long (the guidance asks for ~2 s). If the person
    starts moving earlier, a stand of at least calibration_min_s is used (same minimum as analyze's automatic
    baseline), and the frames before it are replayed into the rep tracker, as analyze streams the whole clip.
    """

    calibration_s: float = setting(
        2.0,
        "seconds of still, upright, side-on standing the live calibration waits for (the guidance asks for ~2 s)",
    )
    calibration_min_s: float = setting(
        0.5,
        "the shortest stand used when the person starts moving earlier (analyze's automatic baseline uses the"
        " same minimum)",
    )
    still_tolerance_deg: float = setting(
        3.0,
        '"Still": the trunk within this many degrees of the stand\'s median, hip-centre shift below this share '
        "of body height (nose→ankle); not the thigh, whose knee landmark can jump behind a plate or a kettlebell "
        "(a knee bend moves the hip centre). Quiet standing sways ~1° (breathing/postural sway), so 3° is loose.",
    )
    still_shift_frac: float = setting(
        0.04,
        "still: the hip centre moves less than this share of body height (nose to ankle)",
    )
    upright_max_deg: float = setting(20.0, "|trunk inclination| above this is not standing")
    frame_margin_frac: float = setting(
        0.01,
        "Framing: body landmarks must lie this far inside the picture and be seen (MediaPipe visibility).",
    )
    min_visibility: float = setting(
        0.5,
        "framing: body landmarks must be seen at least this well (MediaPipe visibility)",
    )
    side_on_max_ratio: float = setting(
        0.45,
        "Side-on: left/right shoulders (or hips) at most this many trunk lengths apart left-right. Measured "
        "on the devset: 0.15 at 9° off the side, 0.34-0.37 at 15-19°; face-on they sit ~0.8 apart. 0.45 ≈ 30°"
        " off the side.",
    )
    calibration_buffer_s: float = setting(20.0, "frames kept for replay while waiting for a stand")
    one_euro_min_cutoff_hz: float = setting(
        1.5,
        "One-euro smoothing of the live angles (filters.LiveAngleSmoother). Tuned on the 8 devset clips "
        "(cached poses): with (1.0 Hz, 0.03) rep boundaries came 3-4 frames after analyze's zero-phase ones; "
        "(1.5 Hz, 0.05) lagged them by 1.15 frames on average (worst 3); beta 0.2 lets the cutoff rise with "
        "speed, so motion onsets lag 0.6 frames on average and every rep and fault time is within 2 frames "
        "(bench/live.py --compare).",
    )
    one_euro_beta: float = setting(
        0.2,
        "one-euro speed coefficient: the cutoff rises with speed, so motion onsets lag 0.6 frames on average",
    )
    one_euro_d_cutoff_hz: float = setting(
        1.0,
        "one-euro cutoff of the speed estimate (the filter's authors' default, Casiez 2012)",
    )
    max_width: int = setting(1280, "same frame scaling as analyze, so landmarks live in the same pixel space")
    tone_hz_good: float = setting(880.0, "pitch of the tone for a clean rep")
    tone_hz_fault: float = setting(330.0, "pitch of the tone for a rep with a fault (low: heard as a warning)")
    tone_s: float = setting(0.12, "tone length in seconds")
    record_queue_frames: int = setting(90, "--record: frames waiting for the encoder before processing would stall")


@dataclass(frozen=True)
class BatchConfig:
    """[batch] hingecheck batch: parallel workers (0 = one per CPU core; each runs one video at a time, ~1 GB RAM),
    seconds allowed per video before it is stopped and marked `timeout` (a 60 s phone clip takes ~1–2 min on one
    core), and the results database file name inside OUTDIR (override with --db).
    """

    workers: int = setting(
        0,
        "parallel worker processes; 0 = one per CPU core (each runs one video at a time, ~1 GB RAM)",
    )
    timeout_s: float = setting(
        900.0,
        "seconds allowed per video before it is stopped and marked timeout (a 60 s phone clip takes ~1–2 min "
        "on one core)",
    )
    db_name: str = setting("results.sqlite", "results database file name inside OUTDIR (override with --db)")


@dataclass(frozen=True)
class QualityConfig:
    """[quality] Honest when it cannot see (hingecheck/core/quality.py): black bars, scene cuts, a camera turned from
    side-on, clothing that hides the back's line and hidden legs are detected; the verdicts they make unreliable
    are withheld (reps are still counted) and the reason is said in plain words. Values measured on the rendered
    devset and corpus and on the real-footage clips (bench/real.py), as noted per key.
    """

    bar_luma: float = setting(
        24.0,
        "black bars: edge columns/rows whose 95th-centile luma (0-255) stays below this in every sampled frame "
        "(measured: PoseReader's bars read 0, pictures' edges >= 60)",
    )
    bar_min_frac: float = setting(0.02, "bars thinner than this share of the frame are left (an encoder's border)")
    picture_min_frac: float = setting(0.3, "no crop when less than this share of the frame would be left (fade-in)")
    bar_sample_frames: int = setting(15, "frames read before the bars are decided (spread over the first 0.5 s)")
    zoom_below_detection: float = setting(
        0.95,
        "a person found on fewer frames than this share, and small in the picture, is looked for again in a crop "
        "around where they were found (measured: a lifter filling 37 % of a phone picture's height found on 48 % "
        "of its frames, on 73 % in the crop; the low-back sample shrunk into a 1280x720 picture 87 -> 100 %) ...",
    )
    zoom_max_person_share: float = setting(
        0.45,
        "... small: the person's height (5-95th centile of their landmark boxes) under this share of the picture's "
        "(people filling 60 % lost 10-25 % of their frames to a crop) ...",
    )
    zoom_pad_share: float = setting(0.35, "... the crop reaching this share of the person's height beyond them")
    zoom_search_frames: int = setting(
        8,
        "a person found on no frame of the whole picture is looked for in nine half-size tiles of this many frames "
        "spread over the clip (measured: the low-back sample shrunk to a fifth of a 1280x720 picture's height is "
        "found on no frame of the whole picture, and on every sampled frame in a tile) ...",
    )
    zoom_search_min_found: int = setting(3, "... and zoomed on when found on at least this many of them")
    cut_min_diff: float = setting(
        0.2,
        "scene cut: colour-histogram difference (half L1 of 64-bin RGB histograms) of a frame to the previous "
        "one at least this (measured: the cuts of aigym2_Deadlift 0.56 and 0.77; movement and handheld "
        "cameras in the real clips <= 0.02) ...",
    )
    cut_mad_k: float = setting(8.0, "... and this many robust deviations (MAD) above the clip's median difference ...")
    cut_spike_ratio: float = setting(
        3.0,
        "... and this many times the largest difference within two frames either side (a cut changes colours"
        " in one frame; movement and pans over several)",
    )
    min_shot_s: float = setting(1.0, "cuts closer than this to the previous cut or the clip's start are ignored")
    lockout_reference_lean_max_deg: float = setting(
        10.0,
        "a standing reference taken from the lockouts (no still stand before the first rep) whose trunk leans "
        "back more than this past the picture's vertical cannot serve as the low back's zero (every flexion "
        "read from it is inflated by the lean's arch): the low-back verdicts are withheld. Measured at the "
        "lockout: YFGD good floor deadlifts -18 to -29° (a low camera and a real lean back), YFGD gym clips -5 "
        "to -9°, PoseReader -6 to +11°, TBY66 kettlebell stands within ±5°",
    )
    not_side_on_yaw_deg: float = setting(
        20.0,
        "the camera estimated this far from side-on warns not_side_on (the outline starts to be the arm or the far "
        "side of the body; verdicts are withheld further on, below)",
    )
    multiple_people_share: float = setting(0.2, "more than one person in view on more than this share: warned")
    out_of_frame_share: float = setting(
        0.1, "a body landmark (shoulders to ankles) outside the picture on more than this share: partly_out_of_frame"
    )
    arm_hides_back_share: float = setting(
        0.5,
        "frames whose low-back outline is mostly arm on more than this share: arm_hides_back (hanging arms brush "
        "the back now and then)",
    )
    outline_unreliable_share: float = setting(
        0.3, "frames whose outline fit is rough or whose split is untrusted on more than this share: warned"
    )
    max_yaw_lumbar_deg: float = setting(
        27.0,
        "camera turned from side-on by more than this (the yaw estimated from the shoulders' separation, "
        "kinematics/view.py): lumbar verdicts withheld. Measured estimates: 22-23 deg on the devset's clips "
        "turned 15-19 deg (dev_02, dev_07: their faults are found) and on a corpus clip turned 29 deg, 32-33 deg "
        "on the five ~45 deg real clips (idds_*_2); the estimate reads ~5 deg high towards the front",
    )
    max_yaw_knee_deg: float = setting(
        27.0,
        "... and knee_dominant too beyond this: on the ~45 deg real clips the hip reads 30-35 deg more than the "
        "side camera on the same reps (the knee 7-14 deg less), and the knee rule compares knee with hip",
    )
    outline_min_frames: int = setting(10, "frames with a measured outline needed to judge the clothing")
    outline_standoff_max_l: float = setting(
        0.45,
        "back outline hidden: standing, the outline lies more than this many trunk lengths behind the hip-shoulder"
        " landmark line over the low back ... Measured standing medians: fitted tops 0.13-0.22 (devset, corpus), "
        "the real black hoodie 0.19-0.21 (idds_*_1, usable), rendered loose tops and hoodies 0.22-0.40; their "
        "lumbar error did not grow with it (RMSE 2.5-9.6 deg at >= 0.30 vs 3-13 deg fitted), so only a garment "
        "standing off further than any of these is withheld on this ground",
    )
    outline_hollow_min_l: float = setting(
        0.0,
        "... with less low-back hollow than this (trunk lengths in front of the buttock-upper back chord; fitted "
        "0.01-0.11, bridged by loose tops and hoodies to -0.01-0.07)",
    )
    outline_roughness_max_l: float = setting(
        0.03,
        "... or the standing outline's second differences have an RMS above this (trunk lengths): folds, a hood,"
        " an arm in the outline. Measured: 0.002-0.006 on the devset, the corpus and the real side clips, 0.010-"
        "0.015 on a real gym clip, 0.045 on a rendered hoodie with a hanging arm (lumbar RMSE 9.6 deg)",
    )
    outline_upper_back_bend_deg: float = setting(
        10.0,
        "... or its upper back (thorax vs thoracolumbar window) bends backwards by more than this from standing to"
        " bent over. Measured (deep minus upright): devset 0.3 to 10.7, rendered loose tops and hoodies -3.8 to "
        "24.7; the real black hoodie (idds_*_1) -11.3 to -26.6, where the hood bunches behind the neck "
        "(real_findings.md 1.6); PoseReader's first lifter -15.5/-17.3, other real clips -7.4 to 19.3",
    )
    min_trunk_px: float = setting(
        36.0,
        "the trunk (hip to shoulder) shorter than this in the picture (median over a shot): the low back's curve "
        "spans about a pixel of the outline, so the lumbar verdicts are withheld (measured on the three samples "
        "shrunk into a 1280x720 picture: right on every shrink with the trunk 37-56 px, wrong at 33 px; the "
        "learned reading was fitted on trunks of 65 px and more)",
    )
    min_leg_visibility: float = setting(
        0.35,
        "legs hidden: the better-seen leg's knee/ankle MediaPipe visibility (0 outside the picture) times the "
        "share of its shank on the person's mask, median over the reps' frames, below this: knee_dominant "
        "withheld. Measured: 0.28 on yfgd_bad_02 (a plate hides the lifter's shins and knees), 0.50-0.76 on the "
        "other real side clips, >= 0.9 on the devset. PoseReader's plate in front of the shins "
        "(posereader_nico_unblocked, 0.58) is not caught: MediaPipe's mask takes the plate for the person",
    )


@dataclass(frozen=True)
class ReadingConfig:
    """[reading] How pelvis, lumbar and hip are read from the outline (core/kinematics/lumbopelvic.py). "learned":
    gradient-boosted trees (with a small CNN's reading of the trunk's mask crop and each feature's change over the
    last 0.13-0.4 s among their inputs) fitted on hundreds of rendered bodies (hingecheck/models/lumbopelvic.npz,
    provenance inside; `hingecheck models`), with a 90 % interval per frame; "hand_made": lines fitted to fixed
    outline windows (tuned on the 8 devset bodies). On 170 unseen rendered bodies: hip 11.6 -> 3.9°, lumbar
    11.2 -> 2.8°.
    """

    method: str = setting("learned", "pelvis/lumbar/hip reading", choices=("learned", "hand_made"))
    max_lumbar_uncertainty_deg: float = setting(
        8.0,
        "frames whose lumbar 90 % half-width exceeds this plus lumbar_uncertainty_share of the reading's own size "
        "leave lumbar (and pelvic tilt) empty. The error grows with the flexion (unseen rendered bodies: RMSE 3° "
        "below 5°, 9° above 25°), so a 35° ± 20° reading still says 'flexed'. It withholds 1.5 % of the frames of "
        "170 unseen bodies and 0.1 % of the devset's (the trees without the crop CNN: 3.4 %, RMSE 9.0° there, 3.9° "
        "on the rest; 0.5 %)",
    )
    lumbar_uncertainty_share: float = setting(0.6, "see max_lumbar_uncertainty_deg")
    correction_window_s: float = setting(
        0.0,
        "0: the trees' reading as it is. Above 0 the learned reading enters as a correction of the outline fit "
        "averaged over this window (centred offline, the window before each frame live): the outline fit's timing, "
        "the trees' level. Measured on 102 unseen bodies at 1.0 s: lumbar RMSE 4.1 -> 5.5°, so off; the low-back "
        "rule reads its timing from the outline fit's own columns instead",
    )
    uncertain_share_warn: float = setting(
        0.2, "share of the frames in reps with lumbar left empty above which the clip warns and says why"
    )
