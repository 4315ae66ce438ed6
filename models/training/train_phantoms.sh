#!/bin/sh
# The bounded CPU run that produced the shipped weights: train the three networks one after the
# other on balanced phantoms (about 40 minutes of training on a 2-core CPU), evaluate each on
# held-out phantoms (thresholds on seed 8001, metrics on seed 9001), then export ONNX, the manifest
# and the cards. Every step stops by itself (--max-minutes). Resumes from runs/<model>/last.pt.
# Minutes per model can be overridden: CONVLSTM_MIN=60 B3_MIN=60 IRV2_MIN=60 sh models/training/train_phantoms.sh
set -e
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
THREADS=${THREADS:-2}
COMMON="--seed 1 --studies 1000 --balanced --val-seed 2 --val-studies 4 --threads $THREADS --workers 1"
nice -n 10 $PY -m models.training.train --model convlstm $COMMON --batch-size 2 --steps-per-epoch 15 \
    --slices-per-study 4 --val-slices-per-study 4 --max-minutes "${CONVLSTM_MIN:-13}"
nice -n 10 $PY -m models.training.train --model efficientnet_b3 $COMMON --batch-size 8 --steps-per-epoch 25 \
    --slices-per-study 12 --val-slices-per-study 8 --max-minutes "${B3_MIN:-13}"
nice -n 10 $PY -m models.training.train --model inception_resnet_v2 $COMMON --batch-size 4 --steps-per-epoch 25 \
    --slices-per-study 12 --val-slices-per-study 8 --max-minutes "${IRV2_MIN:-14}"
for m in convlstm efficientnet_b3 inception_resnet_v2; do
  nice -n 10 $PY -m models.training.evaluate --model $m --seed 9001 --studies 20 --threads $THREADS
done
nice -n 10 $PY -m models.training.evaluate --model ensemble --seed 9001 --studies 20
nice -n 10 $PY -m models.training.onnx_export --model all
