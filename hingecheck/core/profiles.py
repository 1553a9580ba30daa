"""The exercise sections of the settings schema: which lift, and each lift's normal knee range and squat rule."""

from __future__ import annotations

from dataclasses import dataclass

from hingecheck.core.sections import setting

EXERCISES = ("rdl", "deadlift", "kb_deadlift", "good_morning", "hinge")
SQUAT_RULES = ("knee_ratio", "chest_up")
# the profile fields' docs, shared by the profiles that set their own defaults
START_DOC = "where a rep starts: standing (down, then up) or bottom (pull first)"
KNEE_NORMAL_DOC = "knee flexion at the bottom that is normal for this lift (at most)"
KNEE_MIN_DOC = "squat: knee flexion at least this (both rules) ... "
SQUAT_RULE_DOC = (
    "knee_ratio: the knees bend far and about as much as the hips; chest_up: the knees bend deep with the "
    "chest upright (hips dropping towards knee level)"
)


@dataclass(frozen=True)
class ExerciseConfig:
    """[exercise] Which lift is analysed. "auto" detects it from the start posture (a lift that starts at the
    bottom is a deadlift from the floor), where the hands are (at the shoulders: a good morning) and the knee
    flexion at the bottom (a kettlebell deadlift bends the knees ~45°, a Romanian deadlift 15–30°). The detected
    or given exercise is reported; its profile ([rdl], [deadlift], … below) sets the normal knee range and
    the squat rule.
    """

    name: str = setting("auto", "the exercise, or auto to detect it", choices=("auto", *EXERCISES))
    kb_knee_min_deg: float = setting(
        40.0,
        "a lift from standing whose knees bend at least this much at the bottom (median over the reps) is a "
        "kettlebell-style deadlift, below it a Romanian deadlift: RDLs keep 15–30° (NSCA), kettlebell deadlifts "
        "~45° and more (measured 57–96° on the TBY66 correct set)",
    )
    hands_at_shoulders_frac: float = setting(
        0.35,
        "hands within this many trunk lengths of the shoulders at the bottom of most reps: a good morning (the "
        "bar sits on the upper back); hanging hands are ≥ 0.8 trunk lengths away",
    )


@dataclass(frozen=True)
class ExerciseProfile:
    """A lift's normal knee range and its squat rule (knee_dominant: "the hinge became a squat")."""

    start: str = setting(
        "standing",
        START_DOC,
        choices=("standing", "bottom"),
    )
    knee_normal_max_deg: float = setting(30.0, KNEE_NORMAL_DOC)
    squat_rule: str = setting(
        "knee_ratio",
        SQUAT_RULE_DOC,
        choices=SQUAT_RULES,
    )
    knee_min_deg: float = setting(
        45.0,
        KNEE_MIN_DOC,
    )
    knee_hip_ratio: float = setting(0.6, "knee_ratio rule: ... and at least this fraction of the hip flexion")
    trunk_max_deg: float = setting(
        40.0, "chest_up rule: ... with the trunk at most this far forward of standing (the chest upright)"
    )
    drive: str = setting(
        "hip",
        "what finds the reps: hip flexion, or the trunk's inclination where a bar and plates hide the hips",
        choices=("hip", "trunk"),
    )


@dataclass(frozen=True)
class RdlProfile(ExerciseProfile):
    """[rdl] Romanian deadlift: from standing, soft knees (15–30° of flexion, NSCA), the hips go back. A squat
    bends the knees about as much as the hips (project choice, checked on rendered squats: knee/hip 0.77–1.0).
    """


@dataclass(frozen=True)
class HingeProfile(ExerciseProfile):
    """[hinge] An unloaded hip hinge (waiter's bow, dowel hinge): as the Romanian deadlift; knees 5–25° in the
    rendered development set.
    """

    knee_normal_max_deg: float = setting(25.0, KNEE_NORMAL_DOC)


@dataclass(frozen=True)
class GoodMorningProfile(ExerciseProfile):
    """[good_morning] Good morning: bar on the upper back, knees nearly straight (0–20°), the trunk bends
    towards horizontal; a squat as for the RDL, from 40° of knee flexion.
    """

    knee_normal_max_deg: float = setting(20.0, KNEE_NORMAL_DOC)
    knee_min_deg: float = setting(40.0, KNEE_MIN_DOC)


@dataclass(frozen=True)
class KbDeadliftProfile(ExerciseProfile):
    """[kb_deadlift] Kettlebell deadlift: from standing, the bell between the feet; the knees bend ~45° and
    more while the hips go back (TBY66 correct set, side view: knee 57–96° at the bottom with the trunk 49–60°
    forward). A squat drops the hips with the chest upright (TBY66 knee-dominant set: knee 115–125°, trunk
    16–26° forward).
    """

    knee_normal_max_deg: float = setting(96.0, KNEE_NORMAL_DOC)
    squat_rule: str = setting(
        "chest_up",
        SQUAT_RULE_DOC,
        choices=SQUAT_RULES,
    )
    knee_min_deg: float = setting(90.0, KNEE_MIN_DOC)


@dataclass(frozen=True)
class DeadliftProfile(ExerciseProfile):
    """[deadlift] Conventional deadlift from the floor: each rep starts at the bottom (pull, lockout, lower);
    at lift-off the knees bend 70–110° with the trunk 45–60° forward and the hips above the knees. A squatted
    deadlift drops the hips towards knee level with the chest upright.
    """

    start: str = setting("bottom", START_DOC, choices=("standing", "bottom"))
    knee_normal_max_deg: float = setting(110.0, KNEE_NORMAL_DOC)
    squat_rule: str = setting(
        "chest_up",
        SQUAT_RULE_DOC,
        choices=SQUAT_RULES,
    )
    knee_min_deg: float = setting(90.0, KNEE_MIN_DOC)
    trunk_max_deg: float = setting(
        35.0, "chest_up rule: ... with the trunk at most this far forward of standing (the chest upright)"
    )
    drive: str = setting(
        "trunk",
        "what finds the reps: the trunk's inclination (at the floor the plates hide the hips and the outline's "
        "hip flexion jumps by 30–50° between frames on YFGD clips, while the trunk line is steady)",
        choices=("hip", "trunk"),
    )
