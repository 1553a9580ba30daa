"""The range test: a person's own back range, and takeovers judged as a share of it."""

from __future__ import annotations

import pytest

from hingecheck.core.movement import analyse_reps
from hingecheck.core.movement.rom import BackRange, RangeTestError, add_range_shares, faults_for_range, measure_range
from hingecheck.core.settings import Settings
from tests.synthetic import Timeline

SETTINGS = Settings()


def range_test(bend_lumbar: float = 45.0, arch: float = 18.0) -> Timeline:
    """Stand, bend fully forward, stand, arch back, stand."""
    tl = Timeline().stand(1.5).move(2.0, hip=75, lumbar=bend_lumbar, thoracic=20, knee=5).hold(0.8).move(1.8)
    return tl.stand(0.8).move(1.2, lumbar=-arch, trunk_extra=-8).hold(0.6).move(1.0).stand(1.0)


def test_the_range_is_read_from_a_full_bend_and_an_arch():
    r = measure_range(range_test().series())
    assert r.lumbar_flexion_deg == pytest.approx(45, abs=1.5)
    assert r.spine_flexion_deg == pytest.approx(65, abs=2)  # lumbar and thoracic: the whole back
    assert r.lumbar_extension_deg == pytest.approx(18, abs=1.5)
    assert r.hip_flexion_deg == pytest.approx(75, abs=2)
    assert BackRange.from_dict(r.to_dict()).to_dict() == r.to_dict()  # stored and read back


def test_a_clip_without_a_full_bend_is_refused_in_one_line():
    shallow = Timeline().stand(1.0).move(1.5, hip=30, lumbar=5).move(1.5).stand(1.0)
    with pytest.raises(RangeTestError, match="no full forward bend") as info:
        measure_range(shallow.series())
    assert "\n" not in str(info.value)
    flat_back_hinge = Timeline().stand(1.0).move(1.5, hip=85, lumbar=6).move(1.5).stand(1.0)
    with pytest.raises(RangeTestError, match="rounded only 6°"):
        measure_range(flat_back_hinge.series())


def test_a_takeover_is_judged_against_the_persons_own_range():
    """25° of lumbar rounding in a stoop: past the population tolerance (15°), but within 60 % of a supple
    person's 60° range; past it for a stiff person whose full bend reaches 30°."""
    stoop = Timeline().stand(1.0).move(1.6, hip=32, lumbar=25, knee=10).hold(0.3).move(1.0).stand(1.0).series()
    supple = BackRange(lumbar_flexion_deg=60.0, spine_flexion_deg=80.0, lumbar_extension_deg=20.0, hip_flexion_deg=80)
    stiff = BackRange(lumbar_flexion_deg=30.0, spine_flexion_deg=45.0, lumbar_extension_deg=10.0, hip_flexion_deg=70)

    def codes(back_range: BackRange | None) -> list[str]:
        settings = Settings(faults=faults_for_range(SETTINGS.faults, back_range))
        reps = analyse_reps(stoop, settings)
        add_range_shares(reps, back_range)
        return reps[0].fault_codes

    assert codes(None) == ["spinal_flexion_takeover"]
    assert codes(supple) == []
    assert codes(stiff) == ["spinal_flexion_takeover"]
    assert faults_for_range(SETTINGS.faults, supple).lumbar_tolerance_deg == pytest.approx(
        SETTINGS.faults.range_share_tolerance * 60.0
    )


def test_each_rep_reports_its_share_of_the_range():
    reps = analyse_reps(
        Timeline().stand(1.0).move(1.6, hip=70, lumbar=10).hold(0.3).move(1.0).stand(1.0).series(), SETTINGS
    )
    add_range_shares(reps, BackRange(40.0, 60.0, None, 80.0))
    assert reps[0].lumbar_range_share == pytest.approx(reps[0].peak_lumbar_flexion_deg / 40.0)
    add_range_shares(reps, None)
    assert reps[0].lumbar_range_share is None
