/**
 * The markdown table of a benchmark run (printed, and committed as bench/RESULTS.md). Every figure
 * comes from the results JSON; nothing is typed in by hand.
 */
import type { BenchResults, RuntimeFigures, Skipped } from './results.js';

const f = (x: number | null | undefined, digits = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
const gib = (b: number | null | undefined) => (b === null || b === undefined ? '–' : `${(b / 2 ** 30).toFixed(2)} GiB`);
const pct = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)} %`);
const isRun = (r: RuntimeFigures | Skipped): r is RuntimeFigures => 'msPerSlice' in r;

export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const e = r.endToEnd;
  const lines: string[] = [];
  lines.push(`# Benchmark: ${r.quick ? 'quick smoke run (not for comparison)' : 'full run'}`, '');
  lines.push(`\`${r.command}\` — ${r.startedAt} to ${r.finishedAt}`, '');
  lines.push('| machine | |', '|---|---|');
  lines.push(`| CPU | ${m.cpuModel}${m.cpuFeatures?.length ? ` (${m.cpuFeatures.join(', ')})` : ''} |`);
  lines.push(`| cores | ${m.logicalCores} logical (${m.availableParallelism} available); ${r.threads} thread(s) used by both runtimes |`);
  lines.push(`| RAM | ${gib(m.memoryBytes)} |`);
  lines.push(`| OS | ${m.os} (${m.kernel}) |`);
  const py = m.python ?? {};
  lines.push(`| runtimes | node ${m.node}, onnxruntime-node ${m.onnxruntimeNode}, PyTorch ${String(py.torch ?? '?')}, Python ${String(py.python ?? '?')}, pydicom ${String(py.pydicom ?? '?')} |`);
  lines.push(
    `| load average (1/5/15 min) | start ${m.loadAverageAtStart.map((x) => x.toFixed(2)).join(' / ')}; end ${(m.loadAverageAtEnd ?? []).map((x) => x.toFixed(2)).join(' / ')} |`,
    '',
  );
  const busiest = Math.max(m.loadAverageAtStart[0] ?? 0, m.loadAverageAtEnd?.[0] ?? 0);
  if (busiest > m.logicalCores / 2) {
    lines.push(
      `**Shared machine**: the 1-minute load average reached ${busiest.toFixed(2)} on ${m.logicalCores} cores during this run, so other processes took part of the CPU; absolute times are pessimistic, ratios measured side by side less so.`,
      '',
    );
  }

  lines.push('## Headline', '');
  lines.push('| figure | value | what it is |', '|---|---|---|');
  lines.push(
    `| end to end, 40-slice study | **${f(e.secondsPer40SliceStudy, 1)} s**${e.extrapolatedFromSlices ? ` (extrapolated from ${e.extrapolatedFromSlices} slices)` : ''} | last file copied into the watched folder → worklist row 'scored', all of ${e.modelsLoaded.join(', ')} on CPU |`,
  );
  if (e.rankedSeconds !== null && e.rankedSeconds !== undefined) {
    lines.push(`| … ranked and flagged | **${f(e.rankedSeconds, 1)} s** | last file copied → the study's ranking score from the ranking family's networks, while the slower ones still run (same run) |`);
  }
  if (e.firstProvisionalSeconds !== null && e.firstProvisionalSeconds !== undefined) {
    lines.push(`| first provisional score | ${f(e.firstProvisionalSeconds, 1)} s | first file copied → a provisional study score from the slices stored so far |`);
  }
  if (e.othersCpuShare !== undefined && e.othersCpuShare !== null) {
    lines.push(`| … other processes' CPU meanwhile | ${pct(e.othersCpuShare, 0)} | share of the machine's CPU time that other processes (and hypervisor steal) took during the end-to-end run |`);
  }
  lines.push(`| … of which configured waits | ${f(e.waitsSeconds, 1)} s | stability ${e.stableMs} ms + settle ${e.settleMs} ms (shortened for the benchmark) |`);
  lines.push(`| … of which compute | ${f(e.computeSeconds, 1)} s | reading the last files, ordering, inference, storing, ranking, the worklist query |`);
  lines.push(
    `| stages | ${f(e.breakdown.stabilityAndIngestSeconds)} / ${f(e.breakdown.settleSeconds)} / ${f(e.breakdown.inferenceSeconds, 1)} / ${f(e.breakdown.worklistSeconds, 3)} s | stability+ingest / settle / inference of ${e.slices} slices (${f(e.inferenceSecondsPerSlice)} s per slice) / worklist |`,
  );
  lines.push(
    `| at the app's default waits | ≈ ${f(e.estimatedSecondsPer40SliceStudyAtAppDefaultWaits, 1)} s | derived: compute + stability ${e.appDefaultWaits.stableMs} ms + settle ${e.appDefaultWaits.settleMs} ms |`,
  );
  const sec = (v: number | null) => (v === null ? 'none' : `${f(v, 1)} s`);
  for (const p of [r.scannerPace, r.scannerPaceDicom]) {
    if (!p) continue;
    const dicom = p.arrival === 'dicom';
    const how = dicom
      ? `sent to the app's DICOM receiver (C-STORE, one association a slice, so no release speaks for the whole series; no stability wait applies), settle ${p.settleMs} ms`
      : `copied into the import folder, the app's default waits (stability ${p.stableMs} ms, settle ${p.settleMs} ms)`;
    const what = `${p.slices} slices at ${p.slicesPerSecond} a second (${f(p.arrivalSeconds, 1)} s), ${how}`;
    const title = dicom ? '**at a scanner\'s pace, over DICOM**' : '**at a scanner\'s pace**';
    lines.push(`| ${title}: ranked from every slice | **${sec(p.rankedFromAllSlicesSeconds)}** | last slice → the worklist ranks the study by a score from all its slices (provisional: the series is still within its settle wait); ${what}; measured |`);
    lines.push(`| … first provisional score | ${sec(p.firstProvisionalSeconds)} | first slice → a provisional study score from the slices in so far (same run) |`);
    lines.push(`| … final score, ranked / all networks | ${sec(p.finalRankedSeconds)} / ${sec(p.scoredSeconds)} | last slice → the final run's ranking score / the row 'scored' (after the settle wait; same run) |`);
  }
  const pushed = r.pushedDicom;
  if (pushed) {
    const what = `${pushed.slices} slices pushed to the app's DICOM receiver in one association as fast as it stores them (${f(pushed.arrivalSeconds, 1)} s), then released, as a PACS forwards a study or a scanner transfers a finished series; the release settles the series ${f((pushed.releaseSettleMs ?? 0) / 1000, 0)} s later instead of the ${f(pushed.settleMs / 1000, 0)} s settle wait`;
    lines.push(`| **pushed in one association, over DICOM**: final score, ranked / all networks | **${sec(pushed.finalRankedSeconds)}** / ${sec(pushed.scoredSeconds)} | release → the final run's ranking score / the row 'scored'; ${what}; measured |`);
    lines.push(`| … ranked from every slice | ${sec(pushed.rankedFromAllSlicesSeconds)} | release → the worklist ranks the study by a score from all its slices (same run) |`);
  }
  lines.push(`| peak RSS, core + all models | **${gib(r.memory.peakRssBytes)}** | ${r.memory.what}; ${gib(r.memory.rssAfterModelLoadBytes)} after loading |`);
  lines.push(`| model load | ${f(e.modelLoadSeconds, 1)} s | sha256 check + session creation, all models |`);
  lines.push(
    `| measured fp32 peak | ${f(r.peak.usedGflops, 1)} GFLOP/s | best square MatMul (${r.peak.matmulSizes.join(', ')}; before and after the models): PyTorch ${f(r.peak.torchMatmulGflops, 1)}, onnxruntime ${f(r.peak.onnxruntimeMatmulGflops, 1)} (the higher is the peak) |`,
    '',
  );

  lines.push('## Models (CPU)', '');
  lines.push(
    '| model | GFLOP/slice | batch | ORT ms/slice | ORT slices/s | PyTorch ms/slice | ORT ÷ PyTorch time | ORT % of peak | ORT peak RSS | PyTorch peak RSS | others\' CPU |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  const skipped: string[] = [];
  let overPeak = false;
  let int8 = false;
  const others = (x: RuntimeFigures | Skipped) => (isRun(x) ? (x.othersCpuShare ?? null) : null);
  for (const model of r.models) {
    // An int8 file's integer kernels (VNNI) are not bound by the fp32 MatMul peak: its share is
    // shown against that peak for scale only, and it never means a quieter moment.
    const isInt8 = /\.int8\.onnx$/.test(model.path);
    int8 ||= isInt8;
    for (const c of model.configurations) {
      const o = c.onnxruntime;
      const p = c.pytorch;
      if (!isRun(o)) skipped.push(`${model.id} batch ${c.batch} onnxruntime: ${o.skipped}`);
      if (!isRun(p)) skipped.push(`${model.id} batch ${c.batch} PyTorch: ${p.skipped}`);
      if ((c.fractionOfPeak ?? 0) > 1 && !isInt8) overPeak = true;
      const mark = isInt8 ? ' ²' : (c.fractionOfPeak ?? 0) > 1 ? ' ¹' : '';
      const busy = [others(o), others(p)].filter((x): x is number => x !== null);
      lines.push(
        `| ${model.id} | ${f(model.flopsPerSlice === null ? null : model.flopsPerSlice / 1e9, 2)} | ${c.batch} | ${isRun(o) ? f(o.msPerSlice, 0) : 'skipped'} | ${isRun(o) ? f(o.slicesPerSecond) : '–'} | ${isRun(p) ? f(p.msPerSlice, 0) : 'skipped'} | ${f(c.ortTimeOverPytorchTime)} | ${pct(c.fractionOfPeak)}${mark} | ${gib(o.peakRssBytes)} | ${gib(p.peakRssBytes)} | ${busy.length ? pct(Math.max(...busy), 0) : '–'} |`,
      );
    }
  }
  lines.push('');
  lines.push(
    "others' CPU: the larger share of the machine's CPU time that other processes (and hypervisor steal) took while the onnxruntime or the PyTorch measurement of that row ran.",
    '',
  );
  if (overPeak) {
    const samples = r.peak.samples.map((x) => `${f(Math.max(x.torch, x.onnxruntime), 0)}${x.othersCpuShare !== null && x.othersCpuShare !== undefined ? ` (others ${pct(x.othersCpuShare, 0)})` : ''}`);
    lines.push(
      `¹ Above 100 %: that configuration ran at a quieter moment than every MatMul peak sample (GFLOP/s: ${samples.join(', ')}); on a shared machine the peak is a floor.`,
      '',
    );
  }
  if (int8) {
    lines.push(
      '² An int8 file: onnxruntime runs it with integer kernels (AVX-512 VNNI where the CPU has them), whose peak is several times the fp32 MatMul peak measured here; the share is against the fp32 peak, for scale only.',
      '',
    );
  }
  if (skipped.length) lines.push('Skipped:', '', ...skipped.map((s) => `- ${s}`), '');

  const paired = r.models.filter((m) => m.configurations.some((c) => c.onnxruntimeFloat));
  if (paired.length) {
    lines.push('## int8 against float (onnxruntime, same run)', '');
    lines.push('| model | batch | float ms/slice | int8 ms/slice | int8 speed-up |', '|---|---:|---:|---:|---:|');
    for (const model of paired) {
      for (const c of model.configurations) {
        const fl = c.onnxruntimeFloat;
        if (!fl) continue;
        const i8 = c.onnxruntime;
        lines.push(`| ${model.id} | ${c.batch} | ${isRun(fl) ? f(fl.msPerSlice, 0) : `skipped (${fl.skipped})`} | ${isRun(i8) ? f(i8.msPerSlice, 0) : 'skipped'} | ${c.int8Speedup ? `${f(c.int8Speedup)}×` : '–'} |`);
      }
    }
    const sources = paired.filter((m) => m.floatFile).map((m) => `${m.id}: ${m.floatFile!.source}, ${m.floatFile!.path}`);
    lines.push('', `The float file ran right after the int8 one, same threads and batch${sources.length ? `. Float files: ${sources.join('; ')}` : ''}. Accuracy of the shipped files, as measured when the int8 file was made (the manifest's \`int8\` record; mean ROC-AUC over six labels; a dequantised int8 file is not among them):`, '');
    lines.push('| model | held-out slices | float | int8 | cost |', '|---|---|---:|---:|---:|');
    for (const model of paired) {
      for (const a of model.int8Accuracy ?? []) {
        lines.push(`| ${model.id} | ${a.pool}, ${a.slices} | ${f(a.meanAucFloat, 4)} | ${f(a.meanAucInt8, 4)} | ${f(a.meanAucFloat - a.meanAucInt8, 4)} |`);
      }
    }
    lines.push('');
  }

  const fr = r.floatRun;
  if (fr) {
    lines.push('## int8 against float, end to end (same run)', '');
    lines.push('| | float | int8 (the app) | float ÷ int8 |', '|---|---:|---:|---:|');
    const row = (what: string, fl: number | null | undefined, i8: number | null | undefined) =>
      lines.push(`| ${what} | ${fl === null || fl === undefined ? 'none' : `${f(fl, 1)} s`} | ${i8 === null || i8 === undefined ? 'none' : `${f(i8, 1)} s`} | ${fl && i8 ? `${f(fl / i8)}×` : '–'} |`);
    row(`copied at once (waits ${e.stableMs} + ${e.settleMs} ms): compute`, fr.copiedAtOnce.computeSeconds, e.computeSeconds);
    row('… inference of every network', fr.copiedAtOnce.inferenceSeconds, e.breakdown.inferenceSeconds);
    row('… last slice → ranked (final run)', fr.copiedAtOnce.rankedSeconds, e.rankedSeconds);
    const pd = r.scannerPaceDicom;
    const fp = fr.scannerPaceDicom;
    if (pd) {
      row(`at a scanner's pace over DICOM (settle ${fp.settleMs} ms): ranked from every slice`, fp.rankedFromAllSlicesSeconds, pd.rankedFromAllSlicesSeconds);
      row('… final score, ranked', fp.finalRankedSeconds, pd.finalRankedSeconds);
      row('… final score, all networks', fp.scoredSeconds, pd.scoredSeconds);
    }
    if (pushed && fr.pushedDicom) {
      row('pushed in one association over DICOM: final score, ranked', fr.pushedDicom.finalRankedSeconds, pushed.finalRankedSeconds);
      row('… final score, all networks', fr.pushedDicom.scoredSeconds, pushed.scoredSeconds);
    }
    lines.push(`| peak RSS, core + all models | ${gib(fr.copiedAtOnce.peakRssBytes)} | ${gib(r.memory.peakRssBytes)} | – |`, '');
    const changed = Object.entries(fr.models).filter(([, v]) => !v.source.startsWith('float file'));
    lines.push(
      `The float run loads a models folder where every network's CPU file is float (bench/float_models.py): ${changed.map(([id, v]) => `${id}, ${v.source}`).join('; ') || 'no network ships int8'}; the others are the files the app runs. It ran right after the int8 runs, the same study and waits. At the app's default waits the final score comes when the series settles, so int8 shortens it only where float inference would outlast the settle wait.`,
      '',
    );
  }

  lines.push('## DICOM decode to Hounsfield slices', '');
  lines.push('| reader | slices/s |', '|---|---:|');
  lines.push(`| app (readSlice, dicom-parser) | ${f(r.decode.app.slicesPerSecond, 0)} |`);
  lines.push(`| pydicom ${r.decode.pydicom.version} + numpy | ${f(r.decode.pydicom.slicesPerSecond, 0)} |`);
  lines.push(`| **app ÷ pydicom speed** | **${f(r.decode.appOverPydicomSpeed)}** |`, '');
  const rounds = r.decode.roundRatios;
  lines.push(
    `${r.decode.slices} phantom files (explicit VR little endian, 512×512), bytes in memory, median of ${r.decode.app.passSeconds.length} passes after a warm-up` +
      (rounds
        ? `; ${rounds.length} rounds of the two readers, the order swapped each round, and the speed ratio is the median of the rounds' ratios (${rounds.map((x) => f(x)).join(', ')}).`
        : '.'),
    '',
  );

  const w = r.worklist;
  const pg = r.postgres;
  const isMeasured = <T extends object>(x: T | { skipped: string } | undefined): x is T => x !== undefined && !('skipped' in x);
  const worklists = [w, ...(isMeasured(pg?.worklist) ? [pg.worklist] : [])];
  lines.push(`## Worklist query, ${w.studies.toLocaleString('en')} studies`, '');
  lines.push('| backend | query | rows returned | median ms | p95 ms | repetitions |', '|---|---|---:|---:|---:|---:|');
  for (const wl of worklists) {
    const backend = wl.backend === 'postgres' ? 'PostgreSQL' : 'SQLite';
    for (const q of wl.queries) lines.push(`| ${backend} | ${q.name} | ${q.rowsReturned} | ${f(q.medianMs, 1)} | ${f(q.p95Ms, 1)} | ${q.reps} |`);
  }
  if (pg && !isMeasured(pg.worklist)) lines.push(`| PostgreSQL | skipped: ${pg.worklist.skipped} | | | | |`);
  lines.push('');
  lines.push(
    `${w.series.toLocaleString('en')} series, ${w.scoredStudies.toLocaleString('en')} scored studies${worklists.length > 1 ? ', the same rows on each backend' : ''}, filled through the app's migrations and direct INSERTs. SQLite: database ${(w.databaseBytes / 1e6).toFixed(0)} MB, filled in ${f(w.fillSeconds, 1)} s.`,
    '',
  );
  if (pg && isMeasured(pg.worklist)) {
    lines.push(
      `PostgreSQL (${pg.server ?? '?'}; a throwaway cluster on this machine, Unix socket, fsync off): database ${(pg.worklist.databaseBytes / 1e6).toFixed(0)} MB after VACUUM ANALYZE, filled in ${f(pg.worklist.fillSeconds, 1)} s (multi-row INSERTs in one transaction).`,
      '',
    );
  }
  if (pg) {
    const p = pg.reviewPropagation;
    lines.push('## A review on one workstation, seen on another (PostgreSQL)', '');
    if (isMeasured(p)) {
      lines.push('| way of looking | median ms | p95 ms | reviews |', '|---|---:|---:|---:|');
      lines.push(`| **as the app sees it**: its data version read every ${p.appPollMs} ms | **${f(p.asTheAppSees.medianMs, 0)}** | ${f(p.asTheAppSees.p95Ms, 0)} | ${p.asTheAppSees.reps} |`);
      lines.push(`| the notice alone: data version read every millisecond | ${f(p.notice.medianMs, 1)} | ${f(p.notice.p95Ms, 1)} | ${p.notice.reps} |`);
      lines.push('');
      lines.push(
        `Two Store connections to the PostgreSQL worklist database above as two workstations; from reviews.record() on A until B's worklist row for the study shows the decision, B looking as the app's API does (the store's data version, then the row). The app's polling period is ${p.appPollMs} ms (src/main/api DEFAULT_EXTERNAL_POLL_MS), and each decision is recorded at another moment of it, so the first row includes on average half a period of waiting.`,
        '',
      );
    } else {
      lines.push(`Skipped: ${p.skipped}.`, '');
    }
  }

  lines.push('## Where onnxruntime spends the time (profiler, batch 1, top operator types)', '');
  for (const model of r.models) {
    if (!model.profile) continue;
    const p = model.profile;
    lines.push(`**${model.id}** — ${f(p.kernelMsPerRun, 0)} ms of kernels per run (${p.runs} profiled runs after a warm-up)`, '');
    lines.push('| operator | ms per run | share | calls per run |', '|---|---:|---:|---:|');
    for (const op of p.operators.slice(0, 6)) lines.push(`| ${op.opType} | ${f(op.totalMs, 1)} | ${pct(op.share)} | ${f(op.calls, 0)} |`);
    lines.push('');
  }
  lines.push('## How to read this', '');
  lines.push(
    '- **ORT ÷ PyTorch time**: onnxruntime-node ms per slice divided by PyTorch ms per slice on the same fp16-rounded weights (read back from the shipped ONNX file), same thread count, same batch and input slices; below 1 means the app\'s runtime is faster. PyTorch runs with OMP_WAIT_POLICY=PASSIVE: with OpenMP\'s default spin-waiting it ran 10–60× slower whenever another process held one of the two cores, which would compare schedulers, not kernels.',
    '- **% of peak**: FLOPs per slice (bench/flops.py: forward hooks on Conv2d, Linear and LSTM, one multiply-add = 2 FLOPs; element-wise work not counted) × slices per second ÷ the best fp32 MatMul GFLOP/s measured in this run. Depthwise and few-channel convolutions cannot approach a MatMul peak; the figure says how much headroom the kernels leave, not a target.',
    '- **peak RSS** per configuration is the VmHWM of a process that loaded that one model and ran that one batch size (onnxruntime with the app\'s session options: CPU arena on, memory patterns off; PyTorch with freed memory kept for reuse likewise). A configuration predicted (linearly in batch) or seen to pass the ceiling is skipped with its reason.',
    '- **end to end** uses the real core: compose(), OnnxSeriesScorer.create() and core.watch() on an empty folder, the study\'s files copied in one after another; the clock starts when the last copy returns and stops when the worklist shows the study scored. The stability and settle waits are shortened and reported apart from the compute; the app\'s defaults are added back only in the derived row.',
    '- A figure measured while the load average is above the core count is a figure of a shared machine: compare runs only at similar load.',
    '',
  );
  return lines.join('\n');
}
