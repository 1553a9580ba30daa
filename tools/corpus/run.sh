#!/usr/bin/env bash
# Render, extract and commit the lumbopelvic corpus chunk by chunk (one process at a time), until UNTIL (HH:MM).
#   FIRST=0 LAST=29 UNTIL=16:40 bash tools/corpus/run.sh
# Resumable: finished clips and extracted clips are skipped; a chunk's shard is rebuilt from all its extracted clips.
set -u
cd "$(dirname "$0")/../.."
PY=${PY:-/work/renderenv/bin/python}
UNTIL=${UNTIL:-23:59}
COMMIT=${COMMIT:-1}
for k in $(seq "${FIRST:-0}" "${LAST:-29}"); do
  [[ "$(date +%H:%M)" > "$UNTIL" ]] && break
  c=$(printf 'c%03d' "$k")
  nice -n 10 env LP_NUM_THREADS=${LP_NUM_THREADS:-2} "$PY" tools/build_corpus.py --chunks "$k" --until "$UNTIL" || exit 1
  nice -n 10 "$PY" tools/extract_corpus.py --chunks "$k" || exit 1
  if [[ "$COMMIT" == 1 && -f "data/corpus/$c.npz" ]]; then
    for _ in 1 2 3 4 5; do
      git add "data/corpus/$c.npz" && git commit -q -m "Corpus shard $c (tools/corpus/run.sh)" -- "data/corpus/$c.npz" && break
      sleep 5
    done
  fi
done
