#!/bin/sh
# Render the stress set (not committed): 14 clips, wider than the devset. See tools/README.md.
# Usage: sh tools/make_stress_set.sh [OUTDIR]   (default /work/stress; ~40-60 min on 2 shared cores)
set -eu
OUT=${1:-/work/stress}
PY=${PY:-.venv-render/bin/python}
R="$PY tools/render_clips.py --out $OUT --seed 3000 --prefix stress --duration-cap 15"
$R --start-index 1 --n 6 --profile stress
$R --start-index 7 --n 2 --profile stress --width 1280 --height 720
$R --start-index 9 --n 1 --profile stress --arms crossed
$R --start-index 10 --n 1 --profile stress --arms crossed --width 1280 --height 720 --yaw -15
$R --start-index 11 --n 1 --profile stress --fast --max-reps 5
$R --start-index 12 --n 1 --profile stress --dark --lower long_pants --yaw 18
$R --start-index 13 --n 1 --profile stress --yaw -20 --cam-height 0.6 --distance 2.4
$R --start-index 14 --n 1 --profile stress --yaw 20 --cam-height 1.5 --distance 4.6 --blur 1.0 --noise 2.5 --crf 27
