"""Model cards (models/<id>/CARD.md), written by onnx_export.py from the recorded figures.

Plain words; every number comes from the checkpoint (training) or from evaluate.py's output
(metrics), and the card names the command that produced it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

from .contract import GPU_WORK, LABELS

RSNA_RETRAIN = {
    "convlstm": "--batch-size 16 --lr 1e-3 --max-steps 200000 --eval-every 2000",
    "efficientnet_b3": "--batch-size 64 --lr 1.8e-3 --max-steps 100000 --eval-every 2000",
    "inception_resnet_v2": "--batch-size 64 --lr 1.2e-3 --max-steps 100000 --eval-every 2000",
}


#: When the augmentation widened to scanner variety (models/training/augment.py); runs before it had the first set.
SCANNER_VARIETY_SINCE = "2026-11-26T14:20:00Z"
#: Generator v4 (mixed-age subdurals, sulcal effacement, streaks rooted in the bone) from this time on
GENERATOR_V4_SINCE = "2026-11-26T18:15:00Z"


def _generator_at(run_started: str) -> str:
    """The phantom generator a pool built on the day of ``run_started`` came from (pools record it
    in their pool.json; a run's record names only the pool's path)."""
    return "v4" if run_started and run_started >= GENERATOR_V4_SINCE else "v3"


def _augmentation_text(run_started: str) -> str:
    if run_started and run_started >= SCANNER_VARIETY_SINCE:
        return ("flips (Barin et al.), rotation ±20°, zoom 0.75–1.3 (pixel spacings ≈ 0.35–0.6 mm), shift ±8 %, a truncated "
                "field of view on 8 %, faint motion streaks on 5 %, HU scale ±3 % and offset ±4 HU, blur σ 0.3–1 px, "
                "noise up to 6 HU with a reconstruction kernel's grain; earlier runs: rotation ±12°, scale ±10 %, "
                "shift ±5 %, white noise up to 5 HU")
    return ("flips (Barin et al.), rotation ±12°, scale ±10 %, shift ±5 %, HU scale ±3 % and offset ±4 HU, Gaussian "
            "noise up to 5 HU, blur σ 0.3–1 px")

def _f(x: Optional[float], digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _metrics_table(evaluation: Dict[str, Any]) -> str:
    rows = ["| label | positives | ROC-AUC | threshold | sensitivity | specificity | precision | F1 | accuracy | ECE |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for label in LABELS:
        m = evaluation["per_label"][label]
        rows.append(f"| {label} | {int(m['positives'])} | {_f(m['auc'])} | {_f(m['threshold'])} | "
                    f"{_f(m['sensitivity'])} | {_f(m['specificity'])} | {_f(m['precision'])} | {_f(m['f1'])} | "
                    f"{_f(m['accuracy'])} | {_f(m.get('ece'))} |")
    o = evaluation["overall"]
    rows.append("")
    rows.append(f"Mean ROC-AUC over labels {_f(o['mean_auc'])}; RSNA-weighted log loss {_f(o['weighted_log_loss'])}; "
                f"all labels pooled at their thresholds: sensitivity {_f(o['micro_sensitivity'])}, specificity "
                f"{_f(o['micro_specificity'])}, precision {_f(o['micro_precision'])}, accuracy {_f(o['micro_accuracy'])}.")
    return "\n".join(rows)


def _set_words(s: Dict[str, Any]) -> str:
    if "seed" in s:
        each = "every slice" if not s.get("slices_per_study") else f"{s['slices_per_study']} random slices each"
        return (f"{s['studies']} {'balanced ' if s.get('balanced') else ''}phantom studies of seed {s['seed']}, "
                f"{each} ({s['slices']} slices; positives per label: "
                + ", ".join(f"{k} {v}" for k, v in s["positives"].items()) + ")")
    return f"{s['source']} ({s['slices']} slices)"


def _int8_section(entry: Dict[str, Any]) -> List[str]:
    q = entry.get("int8")
    if not q:
        return []
    held = q["heldOut"]
    where = "the only file shipped: onnxruntime runs it on the CPU and on CUDA" if not q["floatShipped"] else \
        "the CPU file; CUDA runs the float file"
    return [
        f"**int8 file** `{q['file']}` ({where}). {q['scheme']}; activation ranges from {q['calibration']} slices "
        + ("(" + " and ".join(f"{c['slices']} of {c['pool']}, seed {c['seed']}" for c in q["calibrationPools"]) + ")"
           if len(q.get("calibrationPools") or []) > 1 else f"of phantom seed {q['calibrationSeed']}")
        + f". Measured through onnxruntime on the same {held['slices']} held-out "
        f"slices ({held['studies']} studies, phantom seed {held['seed']}): mean "
        f"ROC-AUC {_f(q['meanAucFloat'])} float → {_f(q['meanAucInt8'])} int8 (cost {q['meanAucCost']:+.4f}), "
        f"\"any\" {_f(q['aucAnyFloat'])} → {_f(q['aucAnyInt8'])}; {q['msPerSliceFloat']:.0f} → "
        f"{q['msPerSliceInt8']:.0f} ms a slice ({q['speedup']:.2f}× faster; {q['threads']} threads, batch "
        f"{q['batchSize']}, {q.get('measuredOn') or 'this machine'})"
        + "".join(f"; on {a['slices']} held-out slices of {a['pool']}: {_f(a['meanAucFloat'])} → {_f(a['meanAucInt8'])} "
                  f"(cost {a['meanAucCost']:+.4f})" for a in q.get("alsoHeldOut") or [])
        + f". Command: `{q['command']}`.",
        "",
    ]


def write_card(path: Path, entry: Dict[str, Any], evaluation: Optional[Dict[str, Any]],
               ensemble: Optional[Dict[str, Any]] = None, output_std: Optional[Dict[str, float]] = None,
               ensemble_note: Optional[str] = None) -> None:
    """The card of the model ``entry`` (its manifest row), section by section."""
    mid = entry["id"]
    lines = [
        *_what_it_is(entry),
        *_how_it_was_trained(entry),
        *_calibration_section(entry.get("calibration")),
        *_performance_section(mid, evaluation, output_std),
        *_ensemble_section(ensemble, ensemble_note),
        *_retraining_section(mid, ensemble),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def _shards(entry: Dict[str, Any]) -> int:
    """External-data shards of the model's main file (an int8 file beside it is not one of them)."""
    return sum(1 for f in entry["files"] if f["path"] != entry["file"] and f["path"].startswith(entry["file"] + ".")
               and f.get("role", "external-data") == "external-data")


def _what_it_is(entry: Dict[str, Any]) -> List[str]:
    """Title, the warning, and the network: source, files, inputs and outputs, preprocessing."""
    return [
        f"# Model card: {entry['id']} v{entry['version']}",
        "",
        "> **Warning — not a medical device.** These weights were trained **from scratch on synthetic data only**",
        "> (models/phantom; for some runs also synthetic bleeds drawn into one real head CT, models/phantom/insert.py),",
        "> for a short time on a CPU. They are **NOT clinically validated**, say nothing about real",
        "> patients, and **must be retrained on real data** (command below) before any clinical evaluation.",
        "",
        "## What it is",
        "",
        f"{entry['architecture']}. Source: {entry['paper']}. {entry['parameters']:,} parameters. "
        f"File: `{entry['file']}`" + (f" with {shards} external-data shard(s)" if (shards := _shards(entry)) else "")
        + f"; weights: {entry.get('weightsOnDisk', 'float16, computed in float32')} (ONNX opset 17).",
        "",
        *_int8_section(entry),
        "Input: one axial head-CT slice, `hu` float32 [N,1,512,512] in Hounsfield units, and `window` float32 [N,2] "
        "(the slice's own default window centre/width; brain 40/80 when the DICOM has none). Output: "
        "`probabilities` float32 [N,6], independent sigmoid probabilities in the order "
        + ", ".join(LABELS) + ".",
        "",
        f"Preprocessing inside the graph: {entry['preprocessing']}.",
        "",
        "Interpretations of the paper (ours):",
        "",
        *[f"- {n}" for n in entry["interpretations"]],
        "",
    ]


def _how_it_was_trained(entry: Dict[str, Any]) -> List[str]:
    """Every run that trained the weights (or the one record of older exports), else "untrained"."""
    t = entry["training"]
    lines = ["## How it was trained", ""]
    if t.get("runs"):
        lines += _runs_table(t)
        lines += _run_details(t)
        lines += [
            f"- Exported weights: step {t['exportedCheckpoint']['step']:,}, the {t['exportedCheckpoint']['rule']}.",
            "- No pretrained (ImageNet) weights: none can be had offline; the network started from random initialisation.",
            "",
            "This is far less training than the paper's (which used RSNA 2019 data"
            + (" for 500 epochs" if entry["id"] == "convlstm" else ", ImageNet pretraining and 10-fold cross-validation")
            + ").",
        ]
        lr = entry.get("lrSweep")
        if lr:
            lines += ["", f"Peak learning rate chosen by a range test ({lr['rule']}): lowest loss at {lr['lowest_loss_lr']:.1e}, "
                          f"flat up to {lr['largest_flat_lr']:.1e}, suggested {lr['suggested_lr']:.1e} at batch {lr['batch_size']} "
                          f"(`{lr['command']}`)."]
    elif t.get("steps"):
        lines += [
            f"- Data: {t['data']}.",
            f"- {t['steps']} optimiser steps = {t['slicesSeen']} slices seen; {t.get('optimizer', 'Adam')} lr {t['learningRate']}.",
            f"- Hardware: {t['hardware']}. Wall time {t['wallSeconds'] / 60:.1f} min.",
            f"- Command: `{t['command']}`",
        ]
    else:
        lines += ["Untrained: random initialisation, exported only to exercise the pipeline."]
    return lines


def _runs_table(t: Dict[str, Any]) -> List[str]:
    """One row per run that contributed to the weights, and their total."""
    return [
        "Every run that contributed to these weights (each started from the previous one's weights; "
        "`--init onnx` continues from the committed file, so training done on different days adds up):",
        "",
        "| # | started | hardware | data | batch | peak lr | steps | slices | minutes |",
        "|---|---|---|---|---|---|---|---|---|",
        *[f"| {i + 1} | {r.get('started') or '—'} | {r.get('hardware')} | {r.get('data')} | {r.get('batch_size') or '—'} "
          f"| {r.get('lr') or '—'} | {r.get('steps') or 0:,} | {r.get('slices') or 0:,} | {float(r.get('minutes') or 0):.1f} |"
          for i, r in enumerate(t["runs"])],
        f"| | **total** | | | | | **{t['total']['steps']:,}** | **{t['total']['slices']:,}** | **{t['total']['minutes']:.1f}** |",
        "",
    ]


def _run_details(t: Dict[str, Any]) -> List[str]:
    """The latest run: its command, where it ran when that was a lent GPU machine, and its recipe."""
    latest_start = str(((t.get("runs") or [{}])[-1]).get("started") or "")
    lines = [f"- Latest run's command: `{t['command']}`"]
    if GPU_WORK in str(t.get("command")):
        lines.append(f"- Paths under {GPU_WORK} are a lent GPU machine's: `models.training.gpu_run train` built the "
                     f"pools there (generator-{_generator_at(latest_start)} phantoms of mixed slice thickness 0.625–5 mm, "
                     "seed 1, growing while "
                     "the networks trained; the real series' training slices with bleeds drawn in, seed 1; validation "
                     "seed 2 and the real series' held-out slices; calibration 7001, thresholds 8001, test 9001) and "
                     "ran this run there; the calibration and the test below ran where their commands' paths say "
                     "(there, or on this CPU from the pools of the training README's commands).")
    if t.get("recipe"):
        r = t["recipe"]
        lines += [
            f"- Recipe: AdamW (weight decay {r.get('weight_decay')}), linear warm-up over {r.get('warmup_steps')} steps "
            "then cosine decay to 2 % of the peak over the run's budget, gradient-norm clipping at 2, an exponential "
            "moving average of the weights (what is evaluated and exported), class-weighted BCE (positive weights "
            + ", ".join(f"{k} {v}" for k, v in t["classWeights"].items()) + ").",
            "- Augmentation of each batch of the latest run on the training device, in Hounsfield units before the "
            "in-graph windowing: " + _augmentation_text(latest_start) + " (models/training/augment.py)."
            + (f" Progressive resizing: the network saw {r['train_size']}×{r['train_size']} inputs for the first "
               f"{100 * float(r['native_from']):.0f} % of the run and its native size after (FixRes)."
               if r.get("train_size") else ""),
        ]
    return lines


def _calibration_section(cal: Optional[Dict[str, Any]]) -> List[str]:
    """The calibration inside the graph and what it did to the expected calibration error."""
    if not cal:
        return []
    return [
        "", "## Calibration", "",
        f"{cal['method']}, fitted on {cal['set']['studies']} phantom studies of seed {cal['set']['seed']} "
        f"({cal['set']['slices']} slices, a seed used for nothing else) and applied inside the ONNX graph, so every "
        "probability the app shows is the calibrated one. Expected calibration error "
        f"({cal['eceBins']} equal-width bins) on that set:", "",
        "| label | scale | bias | ECE before | ECE after |", "|---|---|---|---|---|",
        *[f"| {l} | {cal['scale'][l]:.3f} | {cal['bias'][l]:+.3f} | {cal['eceBefore'][l]:.3f} | {cal['eceAfter'][l]:.3f} |"
          for l in LABELS],
        "", f"Command: `{cal['command']}`. The test set's ECE is in the table below (`ece`).",
    ]


def _performance_section(mid: str, evaluation: Optional[Dict[str, Any]],
                         output_std: Optional[Dict[str, float]]) -> List[str]:
    """The held-out test: a warning first when the probabilities barely vary, then the metrics."""
    lines = ["", "## Measured performance (synthetic, held out)", ""]
    if output_std is not None and max(output_std.values()) < 1e-3:
        lines += _flat_output_warning(evaluation, output_std)
    if not evaluation:
        return lines + ["Not measured yet: run `/usr/bin/python3 -m models.training.evaluate --model " + mid + "` then re-export."]
    return lines + [
        f"Test set: {_set_words(evaluation['test_set'])} — a seed never used in training.",
        f"Operating thresholds: {evaluation['threshold_rule']}; validation set: "
        f"{_set_words(evaluation['validation_set'])}. These are slice-level operating points; the worklist "
        "flags a study by its ranking family's study-level thresholds, chosen on the same set (the manifest's "
        "`ranking.thresholds`; models/training/README.md, \"Calibration and thresholds\").",
        "",
        _metrics_table(evaluation),
        "",
        f"Measured with: `{evaluation['command']}` (weights: {evaluation['weights']}).",
        "",
        "The app measures the shipped ONNX files end to end as well — normal ingest, onnxruntime-node, "
        "slice- and study-level scores beside the paper's published figures — with `triage evaluate --data "
        "<RSNA-format folder>`; its report on held-out phantoms (seed 9001) is "
        "[models/evaluation/phantom-seed9001.md](../evaluation/phantom-seed9001.md), made by the command at its top.",
        "",
        "Phantom figures say only whether the network learned the synthetic lesions; they are not an estimate "
        "of performance on real scans.",
    ]


def _flat_output_warning(evaluation: Optional[Dict[str, Any]], output_std: Dict[str, float]) -> List[str]:
    """Probabilities that barely vary from slice to slice: a ranking that carries signal (mean ROC-AUC
    above 0.6) but uncalibrated values, or a network that has not learned yet."""
    mean_auc = None
    if evaluation:
        aucs = [evaluation["per_label"][l].get("auc") for l in LABELS]
        aucs = [a for a in aucs if a is not None]
        mean_auc = sum(aucs) / len(aucs) if aucs else None
    spread = f"largest per-label standard deviation {max(output_std.values()):.1e}"
    if mean_auc is not None and mean_auc > 0.6:
        return [
            "> **Known problem: the probabilities barely vary.** On the test set they differ from slice to slice "
            f"by very little ({spread}). Their order carries signal (the ROC-AUCs below), but the values are not "
            "calibrated, the thresholds sit in a narrow band, and in the ensemble's per-label mean this network "
            "hardly moves the ranking. After so few steps from scratch, BatchNorm's running statistics differ "
            "from the batch statistics the network trained with. Longer training (the RSNA command below, on a "
            "GPU) is needed.",
            "",
        ]
    return [
        "> **Known problem: this network has not learned yet.** On the test set its probabilities are "
        f"practically the same for every slice ({spread}); its ROC-AUCs below are chance and its thresholds "
        "meaningless. After so few steps from scratch with small batches, the network's outputs in training "
        "mode depend on the batch statistics of BatchNorm, and in inference mode (running statistics) the "
        "per-slice differences vanish. Longer training (the RSNA command below, on a GPU) is needed.",
        "",
    ]


def _ensemble_section(ensemble: Optional[Dict[str, Any]], ensemble_note: Optional[str]) -> List[str]:
    """The ensemble this model is a member of, measured on the same test set."""
    if not ensemble:
        return []
    return ["", "## In the ensemble", "",
            "The app averages this model's probabilities with the other member's (manifest id `ensemble`, "
            "rule `mean`). The ensemble on the same test set:", "", _metrics_table(ensemble), "",
            *([ensemble_note, ""] if ensemble_note else []),
            f"Measured with: `{ensemble['command']}`."]


def _retraining_section(mid: str, ensemble: Optional[Dict[str, Any]]) -> List[str]:
    """The commands that retrain, evaluate and export the model on the RSNA 2019 data."""
    return [
        "", "## Retraining on the real RSNA 2019 data", "",
        "Download the RSNA Intracranial Hemorrhage Detection data (stage_2_train/ with `ID_*.dcm` and "
        "`stage_2_train.csv`), then, on a GPU machine (the same command runs on a CPU, slowly):", "",
        "```sh",
        f"/usr/bin/python3 -m models.training.train --model {mid} --data rsna --rsna-dir /data/rsna/stage_2_train "
        f"--rsna-csv /data/rsna/stage_2_train.csv --fresh {RSNA_RETRAIN.get(mid, '')} --workers 8",
        f"/usr/bin/python3 -m models.training.evaluate --model {mid} --data rsna --rsna-dir /data/rsna/stage_2_train "
        f"--rsna-csv /data/rsna/stage_2_train.csv --max-slices 20000",
        *([f"/usr/bin/python3 -m models.training.evaluate --model ensemble --data rsna --rsna-dir "
           f"/data/rsna/stage_2_train --rsna-csv /data/rsna/stage_2_train.csv --max-slices 20000   "
           f"# after both members"] if ensemble is not None or mid in ("efficientnet_b3", "inception_resnet_v2") else []),
        f"/usr/bin/python3 -m models.training.onnx_export --model {mid}",
        "```", "",
        "The split is by StudyInstanceUID (10 % validation, 10 % test by default), never by slice.",
        "",
    ]
