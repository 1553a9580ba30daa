#!/usr/bin/env bash
# Render, extract and commit the lumbopelvic corpus in batches (one process at a time), until UNTIL (HH:MM).
#   CHUNKS=0-29 BATCH=20 UNTIL=16:40 bash tools/corpus/run.sh
#   CHUNKS=1-5 VAL_FIRST=45 bash tools/corpus/run.sh     # alternate val/train clips until 45 val clips exist
# Resumable: finished and extracted clips are skipped; each touched chunk's shard is rebuilt from all its
# extracted clips, and the changed shards are committed after every batch.
set -u
cd "$(dirname "$0")/../.."
PY=${PY:-/work/renderenv/bin/python}
UNTIL=${UNTIL:-23:59}
CHUNKS=${CHUNKS:-0-29}
BATCH=${BATCH:-20}
COMMIT=${COMMIT:-1}
while [[ ! "$(date +%H:%M)" > "$UNTIL" ]]; do
  nice -n 10 env LP_NUM_THREADS=${LP_NUM_THREADS:-2} "$PY" tools/build_corpus.py --chunks "$CHUNKS" \
    --max-clips "$BATCH" --until "$UNTIL" --val-first "${VAL_FIRST:-0}"
  rc=$?
  [[ $rc != 0 && $rc != 3 ]] && exit 1
  nice -n 10 "$PY" tools/extract_corpus.py --chunks "$CHUNKS" || exit 1
  if [[ "$COMMIT" == 1 ]]; then
    for _ in 1 2 3 4 5; do
      git add data/corpus/*.npz && { git diff --cached --quiet -- data/corpus || \
        git commit -q -m "Corpus shards ($(ls /work/corpus/c*/*_reps.json | wc -l) clips rendered)" -- data/corpus; } && break
      sleep 5
    done
  fi
  [[ $rc == 3 ]] && break
done
