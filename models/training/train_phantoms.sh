#!/bin/sh
# The CPU pipeline that produced the shipped ensemble weights, step by step (each step stops by
# itself; a killed step resumes): phantom pools, the two ensemble members trained side by side
# from the committed weights (one core each), calibration on seed 7001, thresholds and the ranking
# family on seed 8001, the held-out test on seed 9001, then ONNX, the manifest and the cards.
# The Conv-LSTM (about 3 s a training slice here) is not retrained on a CPU: its committed file is
# re-measured on the same sets and calibrated. On a GPU, models/training/gpu_run.py does it all.
#
#   POOLS=/data/pools B3_MIN=75 IRV2_MIN=110 sh models/training/train_phantoms.sh
set -e
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
P=${POOLS:-/data/pools}
$PY -m models.training.pool build --seed 2 --studies 24 --out "$P/val-s2"
$PY -m models.training.pool build --seed 1 --studies 800 --out "$P/train-s1"
$PY -m models.training.pool build --seed 7001 --studies 16 --out "$P/cal-s7001"
$PY -m models.training.pool build --seed 8001 --studies 48 --out "$P/thr-s8001"
$PY -m models.training.pool build --seed 9001 --studies 16 --out "$P/test-s9001"

COMMON="--pool $P/train-s1 --val-pool $P/val-s2 --val-studies 16 --val-slices-per-study 12 --batch-size 16 \
  --weight-decay 0.05 --eval-every 100 --workers 1 --threads 1"
nice -n 5 $PY -m models.training.train --model efficientnet_b3 $COMMON --init onnx --lr 9e-4 --train-size 160 \
  --native-from 0.8 --max-minutes "${B3_MIN:-75}" &
nice -n 5 $PY -m models.training.train --model inception_resnet_v2 $COMMON --init onnx --lr 1e-3 --train-size 192 \
  --native-from 0.8 --max-minutes "${IRV2_MIN:-110}" &
wait

SETS="--pool $P/test-s9001 --studies 16 --val-pool $P/thr-s8001 --val-studies 48 --slices-per-study 0 --threads 2"
for m in efficientnet_b3 inception_resnet_v2; do
  $PY -m models.training.calibrate --model $m --pool "$P/cal-s7001" --threads 2
  $PY -m models.training.evaluate --model $m $SETS
done
$PY -m models.training.evaluate --model convlstm --weights onnx $SETS
$PY -m models.training.evaluate --model ensemble
$PY -m models.training.onnx_export --model efficientnet_b3
$PY -m models.training.onnx_export --model inception_resnet_v2
$PY -m models.training.onnx_export --model convlstm --metrics-only
