"""The learned pelvis / lumbar / hip reading and its uncertainty (DESIGN §3b).

The hand-made split (sagittal.py: lines fitted to fixed outline windows) was tuned on eight rendered bodies and
reads the pelvis 9° off on bodies it never saw. Gradient-boosted trees, fitted on hundreds of rendered bodies
(tools/train_lumbopelvic.py, corpus in data/corpus/), read pelvic tilt, lumbar flexion and hip flexion from what
each frame already has: the hand-made angles and their quality terms, the whole dorsal contour in the trunk's
frame, the pelvis window's outline points and the landmarks in the trunk's frame, each also relative to the
standing reference, and (when the model has one) a small CNN's three readings of the trunk's mask crop against
the standing crop (crop.py), and each posture feature's change over the last 0.13, 0.27 and 0.4 s (lagged.py).
Two quantile ensembles per angle give a 90 % interval (conformalised on held-out bodies), whose half-width is the
stated uncertainty. Two more ensembles read how far lumbar and hip flexion changed over the last 0.4 s (the
low-back rule's "who moved first"): a difference cancels the body's shape, which one frame confuses with posture.

Pure numpy: the trees are flat arrays (trees.py) and a frame is read by walking every tree at once, one level per
step; the CNN's convolutions are matrix products.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from hingecheck.core.kinematics.crop import (
    CROP_CELLS,
    CropNet,
    CropReference,
    cnn_scalars,
    crop_reference,
)
from hingecheck.core.kinematics.lagged import (
    LAG_TOLERANCE_SHARE,
    FeatureHistory,
    lagged_columns,
    lagged_differences,
    lagged_names,
)
from hingecheck.core.kinematics.sagittal import (
    CONTOUR_STATIONS_L,
    PELVIS_STATIONS,
    FrameMeasurement,
)
from hingecheck.core.kinematics.trees import TreeEnsemble
from hingecheck.core.sections import ReadingConfig
from hingecheck.core.types import N_LANDMARKS, AngleSeries, FrameAngles, Warning_

N_STATIONS = int(round((CONTOUR_STATIONS_L[1] - CONTOUR_STATIONS_L[0]) / CONTOUR_STATIONS_L[2])) + 1
# the hand-made reading's columns the features use (FrameAngles relative to standing; FrameMeasurement absolute)
RELATIVE_ANGLES = (
    "hip_flexion_deg",
    "lumbar_flexion_deg",
    "pelvic_tilt_deg",
    "thoracic_flexion_deg",
    "trunk_inclination_deg",
    "knee_flexion_deg",
    "thigh_inclination_deg",
    "confidence",
)
QUALITY_TERMS = (
    "landmark_visibility",
    "shoulder_width_l",
    "hip_width_l",
    "body_in_frame",
    "arm_share",
    "fit_rms_l",
    "pelvis_coverage",
    "lumbar_coverage",
)
ABSOLUTE_ANGLES = ("trunk_deg", "thigh_deg", "shank_deg", "pelvis_deg", "lumbar_deg", "thorax_deg")
TARGETS = ("pelvic_tilt_deg", "lumbar_flexion_deg", "hip_flexion_deg")
# how far lumbar and hip flexion changed over the model's change_window_s (FrameAngles' columns of the same names)
CHANGE_TARGETS = ("lumbar_change_deg", "hip_change_deg")
CHANGE_OF = {"lumbar_change_deg": "lumbar_flexion_deg", "hip_change_deg": "hip_flexion_deg"}
QUANTILES = ("mid", "lo", "hi")
# each target corrects the hand-made reading of the same angle (a column of feature_names())
RESIDUAL_OF = {t: f"rel_{t}" for t in ("pelvic_tilt_deg", "lumbar_flexion_deg", "hip_flexion_deg")}
# a frame is read by the model when this many contour stations found the back's edge (of 53): with less there is
# no outline to read, and the landmark-only hip stands (confidence 0), as without the model
MIN_OUTLINE_STATIONS = 10
MIN_HALF_WIDTH_DEG = 0.5


# the CNN's outputs, appended to the trees' features when the model has a CNN (LumbopelvicModel.inputs)
CNN_FEATURES = tuple(f"cnn_{t}" for t in TARGETS)


def feature_names(cnn: bool = False, lags_s: Sequence[float] = ()) -> list[str]:
    """The trees' features: ``FrameFeatures.matrix``'s columns, then the CNN's outputs when ``cnn``, then the
    differences from the frames ``lags_s`` earlier (lagged.py; a shipped model must list exactly these)."""
    present = present_feature_names(cnn)
    return present + lagged_names(present, lags_s)


def present_feature_names(cnn: bool = False) -> list[str]:
    """The features of one frame on its own (``LumbopelvicModel.inputs``' columns)."""
    names = [f"rel_{c}" for c in RELATIVE_ANGLES] + [f"q_{c}" for c in QUALITY_TERMS]
    names += [f"abs_rel_{c}" for c in ABSOLUTE_ANGLES]
    names += [f"contour_{i}" for i in range(N_STATIONS)] + [f"contour_rel_{i}" for i in range(N_STATIONS)]
    names += [f"contour_slope_{i}" for i in range(N_STATIONS - 1)]
    names += [f"pwin_{i}_{ax}" for i in range(PELVIS_STATIONS) for ax in ("up", "back")]
    names += [f"lm_up_{i}" for i in range(N_LANDMARKS)] + [f"lm_fw_{i}" for i in range(N_LANDMARKS)]
    names += [f"lm_rel_up_{i}" for i in range(N_LANDMARKS)] + [f"lm_rel_fw_{i}" for i in range(N_LANDMARKS)]
    names += [f"vis_{i}" for i in range(N_LANDMARKS)]
    return names + list(CNN_FEATURES) if cnn else names


@dataclass
class FrameFeatures:
    """Per-frame inputs of the estimator, column-wise (n frames). NaN where a frame has no value."""

    relative: np.ndarray  # (n, 8) RELATIVE_ANGLES: the hand-made reading relative to standing
    quality: np.ndarray  # (n, 8) QUALITY_TERMS
    absolute: np.ndarray  # (n, 6) ABSOLUTE_ANGLES (image-plane degrees)
    contour_l: np.ndarray  # (n, N_STATIONS) the dorsal contour: offset from the trunk axis towards the back, in L
    pelvis_window_l: np.ndarray  # (n, PELVIS_STATIONS, 2) the pelvis window's points (along the axis, towards back)
    landmarks_l: np.ndarray  # (n, 33, 2) landmarks_in_trunk_frame
    visibility: np.ndarray  # (n, 33)
    crop: np.ndarray | None = None  # (n, 64, 64) uint8 trunk mask crops (zeros where none); None: no crops at all
    crop_xform: np.ndarray | None = None  # (n, 5) CropTransform.as_array (NaN where no crop)

    def crop_reference(self, reference: np.ndarray) -> CropReference:
        """The CNN's standing reference from the ``reference`` frames (crop.crop_reference)."""
        crops, xforms = self._crops()
        return crop_reference(crops[reference], xforms[reference])

    def cnn_inputs(self, reference: CropReference, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The CNN's crops (uint8, CropNet.read_crops) and scalars (N_CNN_SCALARS) of the frames ``rows`` against
        the standing ``reference``."""
        crops, xforms = self._crops()
        return crops[rows], cnn_scalars(self.relative[rows], xforms[rows], reference)

    def _crops(self) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.relative)
        crops = self.crop if self.crop is not None else np.zeros((n, CROP_CELLS, CROP_CELLS), np.uint8)
        xforms = self.crop_xform if self.crop_xform is not None else np.full((n, 5), np.nan)
        return crops, np.asarray(xforms, np.float64)

    def baseline(self, reference: np.ndarray) -> np.ndarray:
        """The standing posture (median over the ``reference`` frames) of the features taken relative to it."""
        stacked = self._referenced()[reference]
        finite = np.isfinite(stacked)
        out = np.full(stacked.shape[1], np.nan)
        cols = finite.any(axis=0)
        if cols.any():
            out[cols] = np.nanmedian(stacked[:, cols], axis=0)
        return out

    def _referenced(self) -> np.ndarray:
        n = len(self.relative)
        return np.concatenate([self.absolute, self.contour_l, self.landmarks_l.transpose(0, 2, 1).reshape(n, -1)], 1)

    def matrix(self, baseline: np.ndarray) -> np.ndarray:
        """The (n, len(feature_names())) model input, relative parts taken from ``baseline``."""
        n = len(self.relative)
        rel = self._referenced() - baseline
        n_abs = len(ABSOLUTE_ANGLES)
        lm = self.landmarks_l.transpose(0, 2, 1).reshape(n, -1)  # all "up" then all "forward"
        return np.concatenate(
            [
                self.relative,
                self.quality,
                rel[:, :n_abs],
                self.contour_l,
                rel[:, n_abs : n_abs + N_STATIONS],
                np.diff(self.contour_l, axis=1),
                self.pelvis_window_l.reshape(n, -1),
                lm,
                rel[:, n_abs + N_STATIONS :],
                self.visibility,
            ],
            1,
        )

    @classmethod
    def of(cls, measurements: Sequence[FrameMeasurement], relative: Sequence[FrameAngles]) -> FrameFeatures:
        """Features of measured frames (``relative``: the hand-made reading of each, Calibration.angles)."""
        n = len(measurements)
        nan = np.nan
        feats = cls(
            np.array([[getattr(a, c) for c in RELATIVE_ANGLES] for a in relative], float).reshape(n, -1),
            np.array([[m.quality.get(c, nan) for c in QUALITY_TERMS] for m in measurements], float).reshape(n, -1),
            np.array([[getattr(m, c) for c in ABSOLUTE_ANGLES] for m in measurements], float).reshape(n, -1),
            np.full((n, N_STATIONS), nan),
            np.full((n, PELVIS_STATIONS, 2), nan),
            np.full((n, N_LANDMARKS, 2), nan),
            np.full((n, N_LANDMARKS), nan),
            np.zeros((n, CROP_CELLS, CROP_CELLS), np.uint8),
            np.full((n, 5), nan),
        )
        assert feats.crop is not None and feats.crop_xform is not None
        for i, m in enumerate(measurements):
            if m.crop is not None and m.crop_xform is not None:
                feats.crop[i] = m.crop
                feats.crop_xform[i] = m.crop_xform.as_array()
            if m.outline_l is not None:
                feats.contour_l[i] = m.outline_l.contour
                feats.pelvis_window_l[i] = m.outline_l.pelvis_window
            if m.landmarks_l is not None:
                feats.landmarks_l[i] = m.landmarks_l
                feats.visibility[i] = m.landmark_visibilities
        return feats


@dataclass(frozen=True)
class LumbopelvicReading:
    """The learned reading of n frames: each target's estimate and its 90 % interval half-width (degrees)."""

    estimate: dict[str, np.ndarray]
    uncertainty: dict[str, np.ndarray]


@dataclass(frozen=True)
class LumbopelvicModel:
    """Per target (TARGETS) a mean ensemble and 5 %/95 % quantile ensembles; the stated uncertainty is the
    quantile pair's half-width scaled so that mean ± uncertainty held the truth on 90 % of frames of bodies held
    out of the fit (normalised split conformal).

    With ``residual_of`` (a target → the feature column it corrects) a target's ensembles predict that column's
    error instead of the angle; the shipped model has none (residual trees were worse on unseen bodies: DESIGN,
    "The learned lumbopelvic reading"). A frame without a trusted outline gets no learned value.
    """

    ensembles: dict[str, dict[str, TreeEnsemble]]  # target -> "mid" | "lo" | "hi"
    interval_scale: dict[str, float]
    provenance: dict[str, object] = field(default_factory=dict)
    residual_of: dict[str, str] = field(default_factory=lambda: dict(RESIDUAL_OF))
    cnn: CropNet | None = None  # its outputs follow the frame's features (CNN_FEATURES)
    lags_s: tuple[float, ...] = ()  # the trees also read each posture feature's change over these (lagged.py)
    changes: dict[str, TreeEnsemble] = field(default_factory=dict)  # CHANGE_TARGETS -> mean ensemble
    change_window_s: float = 0.0  # what the change targets' "over the last" is

    def names(self) -> list[str]:
        """Its features (feature_names with its CNN and lags)."""
        return list(self._names)

    @cached_property
    def _names(self) -> tuple[str, ...]:
        # read on every frame live (read, with_changes): built once per model
        return tuple(feature_names(cnn=self.cnn is not None, lags_s=self.lags_s))

    @cached_property
    def _lagged_columns(self) -> np.ndarray:
        return lagged_columns(present_feature_names(cnn=self.cnn is not None))

    def with_changes(self, present: np.ndarray, time_s: np.ndarray) -> np.ndarray:
        """The trees' input: ``present`` (``inputs``' rows of measured frames, in time order, at ``time_s``) and
        each row's differences from the rows ``lags_s`` earlier."""
        if not self.lags_s:
            return present
        return np.concatenate([present, lagged_differences(present, time_s, self.lags_s, self._lagged_columns)], 1)

    def history(self) -> FeatureHistory:
        """Live: the buffer ``with_changes`` needs for one frame at a time."""
        return FeatureHistory(max(self.lags_s, default=0.0) * (1 + LAG_TOLERANCE_SHARE))

    def inputs(
        self, features: FrameFeatures, baseline: np.ndarray, reference: CropReference | None, rows: np.ndarray
    ) -> np.ndarray:
        """The trees' input for the frames ``rows`` of ``features``: the feature matrix (relative parts from
        ``baseline``) and, with a CNN, its outputs on the crops against the standing ``reference``."""
        x = features.matrix(baseline)[rows]
        if self.cnn is None:
            return x
        assert reference is not None, "a model with a CNN reads against a standing crop"
        crops, scalars = features.cnn_inputs(reference, rows)
        return np.concatenate([x, self.cnn.read_crops(crops, reference, scalars)], 1)

    def read(self, x: np.ndarray) -> LumbopelvicReading:
        """Estimates and uncertainties for the rows of the feature matrix ``x`` (``with_changes``); NaN where a row
        has no person. The change targets, when the model has them, come without an uncertainty."""
        estimate: dict[str, np.ndarray] = {t: e.predict(x) for t, e in self.changes.items()}
        uncertainty: dict[str, np.ndarray] = {}
        for target, parts in self.ensembles.items():
            mid, lo, hi = (parts[q].predict(x) for q in QUANTILES)
            base = self.residual_of.get(target)
            estimate[target] = mid + (x[:, self._names.index(base)] if base else 0.0)
            uncertainty[target] = raw_half_width(lo, hi) * self.interval_scale[target]
        return LumbopelvicReading(estimate, uncertainty)


def raw_half_width(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Half the 5–95 % quantile pair's width, floored (a crossing or collapsed pair still says "some")."""
    return np.maximum(0.5 * (hi - lo), MIN_HALF_WIDTH_DEG)


def learned_angles(
    model: LumbopelvicModel,
    features: FrameFeatures,
    baseline: np.ndarray,
    relative: Sequence[FrameAngles],
    reference: CropReference | None = None,
    history: FeatureHistory | None = None,
) -> list[FrameAngles]:
    """The frames' angles with pelvis, lumbar and hip read by the model and their uncertainty attached, and (when
    the model reads them) the changes of lumbar and hip flexion over its change window.

    Frames the hand-made reading left without a split (no trusted outline) keep the landmark-only hip and no
    lumbar: the model is not asked what the outline could not show. Thoracic flexion, trunk, knee and thigh
    are the landmark/outline measures as before. The changes are read against the clip's earlier measured frames
    (all of them in ``relative``, or live, one frame with the ``history`` of those before it).
    """
    out = list(relative)
    if not out:
        return out
    outline = np.isfinite(features.contour_l).sum(axis=1) >= MIN_OUTLINE_STATIONS
    detected = np.array([a.detected and np.isfinite(a.trunk_inclination_deg) for a in relative], bool)
    measured = detected & outline
    if not measured.any():
        return out
    present = model.inputs(features, baseline, reference, measured)
    time_s = np.array([relative[i].time_s for i in np.flatnonzero(measured).tolist()], np.float64)
    if history is not None:
        assert len(present) == 1, "live reads one frame at a time"
        time_s, present = history.with_row(float(time_s[0]), present[0])
        reading = model.read(model.with_changes(present, time_s)[-1:])
    else:
        reading = model.read(model.with_changes(present, time_s))
    for k, i in enumerate(np.flatnonzero(measured).tolist()):
        a = relative[i]
        pelvis = float(reading.estimate["pelvic_tilt_deg"][k])
        lumbar = float(reading.estimate["lumbar_flexion_deg"][k])
        hip = float(reading.estimate["hip_flexion_deg"][k])
        if not (np.isfinite(pelvis) and np.isfinite(lumbar) and np.isfinite(hip)):
            continue  # no hand-made split to correct: the frame keeps its landmark-only reading
        nan = float("nan")
        out[i] = replace(
            a,
            hip_flexion_deg=hip,
            lumbar_flexion_deg=lumbar,
            pelvic_tilt_deg=pelvis,
            hip_uncertainty_deg=float(reading.uncertainty["hip_flexion_deg"][k]),
            lumbar_uncertainty_deg=float(reading.uncertainty["lumbar_flexion_deg"][k]),
            lumbar_change_deg=float(reading.estimate["lumbar_change_deg"][k]) if model.changes else nan,
            hip_change_deg=float(reading.estimate["hip_change_deg"][k]) if model.changes else nan,
        )
    return out


@dataclass
class LearnedReader:
    """The model with one standing reference: reads a clip at once (offline) or frame by frame (live) alike."""

    model: LumbopelvicModel
    baseline: np.ndarray  # the standing posture of the features read relative to it (FrameFeatures.baseline)
    cfg: ReadingConfig
    reference: CropReference | None = None  # the standing crop (read by the model's CNN, if it has one)
    _recent: list[tuple[FrameAngles, FrameAngles]] = field(default_factory=list)  # live: (learned, hand-made)
    _history: FeatureHistory | None = None  # live: the recent frames' features (lagged.py)

    @classmethod
    def for_reference(
        cls,
        model: LumbopelvicModel,
        measurements: Sequence[FrameMeasurement],
        reference_positions: np.ndarray,
        cfg: ReadingConfig,
    ) -> LearnedReader | None:
        """The reader for the standing reference frames ``measurements[reference_positions]`` (None: none)."""
        if len(reference_positions) == 0:
            return None
        chosen = [measurements[i] for i in np.asarray(reference_positions).tolist()]
        features = FrameFeatures.of(chosen, [FrameAngles(m.index, m.time_s, m.detected) for m in chosen])
        every = np.ones(len(chosen), bool)
        return cls(model, features.baseline(every), cfg, features.crop_reference(every))

    def read(self, measurements: Sequence[FrameMeasurement], relative: Sequence[FrameAngles]) -> list[FrameAngles]:
        """A clip's learned angles (``relative``: the hand-made reading of each frame, Calibration.angles), the
        correction averaged over a centred window (``keep_outline_detail``)."""
        learned = learned_angles(
            self.model, FrameFeatures.of(measurements, relative), self.baseline, relative, self.reference
        )
        return keep_outline_detail(learned, relative, self.cfg.correction_window_s, causal=False)

    def reset(self) -> None:
        """Forget the live window (the frames are read again from the start)."""
        self._recent.clear()
        self._history = None

    def read_frame(self, m: FrameMeasurement, relative: FrameAngles) -> FrameAngles:
        """Live: one frame, the correction averaged over the window before it (causal)."""
        features = FrameFeatures.of([m], [relative])
        if self._history is None:
            self._history = self.model.history()
        learned = learned_angles(self.model, features, self.baseline, [relative], self.reference, self._history)[0]
        window_s = self.cfg.correction_window_s
        if window_s <= 0:
            return learned
        self._recent.append((learned, relative))
        while self._recent[0][0].time_s < m.time_s - window_s:
            self._recent.pop(0)
        window = keep_outline_detail(
            [a for a, _ in self._recent], [r for _, r in self._recent], window_s, causal=True
        )  # fmt: skip
        return window[-1]

    def withhold(self, series: AngleSeries) -> AngleSeries:
        """``withhold_uncertain`` with this reader's bound."""
        return withhold_uncertain(series, self.cfg.max_lumbar_uncertainty_deg, self.cfg.lumbar_uncertainty_share)

    def withhold_frame(self, angles: FrameAngles) -> FrameAngles:
        """One (smoothed) frame with lumbar and pelvic tilt left empty when too uncertain."""
        bound, share = self.cfg.max_lumbar_uncertainty_deg, self.cfg.lumbar_uncertainty_share
        if not too_uncertain(
            np.array([angles.lumbar_flexion_deg]), np.array([angles.lumbar_uncertainty_deg]), bound, share
        )[0]:
            return angles
        return replace(angles, lumbar_flexion_deg=float("nan"), pelvic_tilt_deg=float("nan"))


CORRECTED = ("hip_flexion_deg", "lumbar_flexion_deg", "pelvic_tilt_deg")


def keep_outline_detail(
    learned: Sequence[FrameAngles], relative: Sequence[FrameAngles], window_s: float, causal: bool
) -> list[FrameAngles]:
    """The hand-made reading plus the learned correction averaged over ``window_s`` (centred, or the window before
    each frame when ``causal``).

    The trees read the level well on unseen bodies but flatten fast changes (a 15° low-back arch at the start of a
    return read as 4°); the hand-made outline fit follows the motion within a rep, and its error is a slow bias of
    body and pose. The sum keeps the level of the one and the timing of the other (a complementary filter).
    """
    if window_s <= 0 or not learned:
        return list(learned)
    t = np.array([a.time_s for a in learned], float)
    out = list(learned)
    blended = {
        k: windowed_correction(
            t,
            np.array([getattr(a, k) if a is not r else np.nan for a, r in zip(learned, relative, strict=True)]),
            np.array([getattr(r, k) for r in relative], float),
            window_s,
            causal,
        )
        for k in CORRECTED
    }
    for i, (a, r) in enumerate(zip(learned, relative, strict=True)):
        if a is not r:
            hip, lumbar, pelvis = (float(blended[k][i]) for k in CORRECTED)
            out[i] = replace(a, hip_flexion_deg=hip, lumbar_flexion_deg=lumbar, pelvic_tilt_deg=pelvis)
    return out


def windowed_correction(
    t: np.ndarray, learned: np.ndarray, hand_made: np.ndarray, window_s: float, causal: bool
) -> np.ndarray:
    """``hand_made`` plus the mean of ``learned - hand_made`` over the window around (or before) each time; the
    learned value where the hand-made one is missing or no correction falls in the window."""
    c = learned - hand_made
    ok = np.isfinite(c)
    lo = np.searchsorted(t, t - (window_s if causal else window_s / 2), side="left")
    hi = np.searchsorted(t, t if causal else t + window_s / 2, side="right")
    csum = np.concatenate([[0.0], np.cumsum(np.where(ok, c, 0.0))])
    cnt = np.concatenate([[0], np.cumsum(ok)])
    n = cnt[hi] - cnt[lo]
    mean = np.where(n > 0, (csum[hi] - csum[lo]) / np.maximum(n, 1), np.nan)
    out = hand_made + mean
    return np.where(np.isfinite(out), out, learned)


def too_uncertain(lumbar_deg: np.ndarray, uncertainty_deg: np.ndarray, bound_deg: float, share: float) -> np.ndarray:
    """Frames whose lumbar half-width exceeds ``bound_deg + share·|lumbar|`` (the error grows with the flexion)."""
    lumbar = np.abs(np.nan_to_num(np.asarray(lumbar_deg, float)))
    return np.asarray(uncertainty_deg, float) > bound_deg + share * lumbar


def withhold_uncertain(series: AngleSeries, bound_deg: float, share: float) -> AngleSeries:
    """Lumbar flexion and pelvic tilt left empty where the lumbar interval is too wide (``too_uncertain``; the
    uncertainty itself stays, so a reader sees why); hip keeps its value and states its own uncertainty."""
    too_wide = too_uncertain(series.lumbar_flexion_deg, series.lumbar_uncertainty_deg, bound_deg, share)
    if not too_wide.any():
        return series
    lumbar = np.where(too_wide, np.nan, series.lumbar_flexion_deg)
    pelvis = np.where(too_wide, np.nan, series.pelvic_tilt_deg)
    # the outline fit's own columns and the learned changes stay: they time the low-back rule, which needs the
    # change, not the level the interval is about (withholding the outline's too cost 4 of 19 low-back returns found
    # on the validation bodies)
    return replace(series, lumbar_flexion_deg=lumbar, pelvic_tilt_deg=pelvis)


# Why a reading is uncertain, from the quality terms of the frames it was withheld on (median over them):
# an arm over the back's outline, a camera turned from side-on (shoulders apart by this share of L; a side view
# ~0.1, 30° of yaw ~0.45), an outline that is no clean line (loose clothing, a fold), landmarks poorly seen.
WHY_ARM_SHARE = 0.2
WHY_SHOULDER_WIDTH_L = 0.35
WHY_FIT_RMS_L = 0.03
WHY_VISIBILITY = 0.6


def uncertainty_warning(
    series: AngleSeries, measurements: Sequence[FrameMeasurement], spans: Sequence[tuple[int, int]], share_warn: float
) -> Warning_ | None:
    """A warning when lumbar was withheld (too uncertain) on more than ``share_warn`` of the frames of the reps
    (``spans``: first and last position of each rep), saying why as far as the quality terms tell."""
    withheld = ~np.isfinite(series.lumbar_flexion_deg) & np.isfinite(series.lumbar_uncertainty_deg)
    in_reps = np.zeros(len(series), bool)
    for a, b in spans:
        in_reps[a : b + 1] = True
    if not in_reps.any():
        return None
    share = float(withheld[in_reps].mean())
    if share <= share_warn:
        return None
    where = np.flatnonzero(withheld & in_reps).tolist()

    def median(term: str) -> float:
        vals = [measurements[i].quality.get(term, np.nan) for i in where]
        return float(np.nanmedian(vals)) if np.isfinite(vals).any() else float("nan")

    reasons = []
    if median("arm_share") > WHY_ARM_SHARE:
        reasons.append("an arm covers the outline of the back")
    if median("shoulder_width_l") > WHY_SHOULDER_WIDTH_L:
        reasons.append("the camera is turned away from side-on")
    if median("fit_rms_l") > WHY_FIT_RMS_L:
        reasons.append("the outline of the back is not a clean line (loose clothing or a fold)")
    if median("landmark_visibility") < WHY_VISIBILITY:
        reasons.append("the body is poorly seen")
    why = "; ".join(reasons) or "the outline of the back there is unlike those the reading was fitted on"
    typical = float(np.nanmedian(series.lumbar_uncertainty_deg[where]))
    return Warning_(
        "lumbar_uncertain",
        f"The low back could not be read reliably on {share:.0%} of the frames of the reps (±{typical:.0f}° there: "
        f"{why}), so lumbar flexion is left empty on those frames rather than guessed. Film exactly side-on, arms "
        "crossed or on the bar, in a fitted top.",
    )
