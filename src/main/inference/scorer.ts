/**
 * The ONNX series scorer: runs every model of models/manifest.json on a ready series, stores
 * per-slice probabilities per model (and per ensemble), and the study scores.
 *
 * Input: a ready series (ordered slices, HU copies on disk). Output: rows in predictions and
 * study_scores, the series marked 'scored'. A model whose file fails its sha256 or will not load
 * is refused with its reason and the others go on; a crash of the worker fails this run (the job
 * is retried) and the next run starts a new worker.
 */
import { disableOnnxRuntimeTelemetry } from './offline.js';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { workerUrl, startWorker } from '../workers/index.js';
import { readHuFile, RANKING_IN_USE_SETTING, RANKING_SCORE_ID, type InstanceRow, type Store } from '../store/index.js';
import { familyNetworks, meanOf, rankingSlices, studyLevel, studyVolume } from '../triage/index.js';
import { orderSlices } from '../assemble/index.js';
import { rankingFamily } from './ranking-setting.js';
import { loadManifest, graphFor, lesionMapNetworks, modelFingerprint, DEFAULT_MODELS_DIR, type LesionMapOutput, type Manifest } from './manifest.js';
import type { ModelToLoad, WorkerRequest, WorkerResponse } from './protocol.js';
import type { ScoringProgress, SeriesScorer } from './index.js';

const SLICE_PIXELS = 512 * 512;

export interface ModelState {
  modelId: string;
  version: string;
  status: 'loaded' | 'refused';
  provider: string | null;
  reason: string;
}

export interface OnnxScorerOptions {
  store: Store;
  /** The folder the HU copies' paths (instances.hu_path) are relative to: the data folder, or the shared one. */
  dataDir: string;
  modelsDir?: string;
  /** Providers to try in order; CUDA first by default (falls back to CPU with the reason). */
  providers?: string[];
  /** Slices per model run; by default chosen per network (see batchSize()). */
  batchSize?: number;
  log?: (m: string) => void;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export class OnnxSeriesScorer implements SeriesScorer {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: WorkerResponse) => void; reject: (e: Error) => void }>();
  private states: ModelState[] = [];
  private readonly manifest: Manifest;
  /** The models that draw lesion maps (read from the manifest once). */
  private readonly maps: ReadonlyMap<string, LesionMapOutput | Error>;
  private readonly modelsDir: string;

  private constructor(private readonly opts: OnnxScorerOptions) {
    this.modelsDir = resolve(opts.modelsDir ?? DEFAULT_MODELS_DIR);
    this.manifest = loadManifest(this.modelsDir);
    this.maps = lesionMapNetworks(this.manifest);
  }

  /** Verifies and loads every model; returns undefined when the manifest lists none. */
  static async create(opts: OnnxScorerOptions): Promise<OnnxSeriesScorer | undefined> {
    const scorer = new OnnxSeriesScorer(opts);
    if (!scorer.manifest.models.length) return undefined;
    await scorer.loadAll();
    return scorer;
  }

  modelStates(): readonly ModelState[] {
    return this.states;
  }

  describe(): string {
    return this.states
      .map((s) => (s.status === 'loaded' ? `${s.modelId} ${s.version} on ${s.provider} (${s.reason})` : `${s.modelId} refused: ${s.reason}`))
      .join('; ');
  }

  private loaded(): ModelState[] {
    return this.states.filter((s) => s.status === 'loaded');
  }

  private async loadAll(): Promise<void> {
    const states: ModelState[] = [];
    for (const m of this.manifest.models) {
      const base = { modelId: m.id, version: m.version, provider: null };
      try {
        const map = this.maps.get(m.id);
        if (map instanceof Error) throw map; // a map the app cannot place refuses the model, with its reason
        for (const f of m.files) {
          const path = resolve(this.modelsDir, f.path);
          let actual: string;
          try {
            actual = await sha256File(path);
          } catch (err) {
            throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
          }
          if (actual !== f.sha256) throw new Error(`sha256 of ${path} does not match the manifest (file changed or damaged)`);
        }
        const model = this.modelToLoad(m.id);
        const r = await this.request({ type: 'load', id: 0, model });
        if (r.type !== 'loaded') throw new Error('unexpected worker reply');
        states.push({ ...base, status: 'loaded', provider: r.provider, reason: r.reason });
      } catch (err) {
        states.push({ ...base, status: 'refused', reason: (err as Error).message });
        this.opts.log?.(`model ${m.id} refused: ${(err as Error).message}`);
      }
    }
    this.states = states;
  }

  private modelToLoad(modelId: string): ModelToLoad {
    const m = this.manifest.models.find((x) => x.id === modelId)!;
    const providers = this.opts.providers ?? ['cuda', 'cpu'];
    const paths: Record<string, string> = {};
    const precisions: Record<string, string> = {};
    for (const p of providers) {
      const graph = graphFor(m, p);
      if (!graph) continue;
      paths[p] = resolve(this.modelsDir, graph.path);
      if (graph.precision) precisions[p] = graph.precision;
    }
    const map = this.lesionMap(modelId);
    return {
      id: m.id,
      paths,
      precisions,
      providers,
      intraOpThreads: availableParallelism(),
      ...(map ? { lesionMap: { name: map.name, channels: map.channels, height: map.height, width: map.width } } : {}),
    };
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    disableOnnxRuntimeTelemetry(); // in the real environment, before the worker loads onnxruntime
    const worker = startWorker(workerUrl(import.meta.url, './worker.ts'));
    worker.on('message', (r: WorkerResponse) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.type === 'error') p.reject(new Error(r.message));
      else p.resolve(r);
    });
    const fail = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(new Error(`inference worker ${why}`));
      this.pending.clear();
    };
    worker.on('error', (err) => fail(`crashed: ${err.message}`));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  private request(msg: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerResponse> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolveReply, reject) => {
      this.pending.set(id, { resolve: resolveReply, reject });
      worker.postMessage({ ...msg, id }, transfer);
    });
  }

  /** A new worker after a crash has no sessions: load what had loaded before. */
  private async reloadIfNeeded(): Promise<void> {
    if (this.worker) return;
    for (const s of this.loaded()) {
      const r = await this.request({ type: 'load', id: 0, model: this.modelToLoad(s.modelId) });
      if (r.type === 'loaded') s.provider = r.provider;
    }
  }

  /**
   * Slices per run, from `npm run bench` on a 2-core CPU: the Conv-LSTM (512×512, ten views) runs
   * as fast per slice at 1 as at 2, and onnxruntime's arena keeps the peak of the largest batch
   * (0.64 GiB at 1, 4.2 GiB at 8), so 1; EfficientNet-B3 (300×300, int8) runs 19–32 ms a slice at
   * any batch, the runs differing by as much as the batches, so 1 (a slice is answered as soon as
   * it is stored); Inception-ResNet-V2 (299×299, int8) gains a little from 8 (32 → 26–28 ms).
   */
  private batchSize(modelId: string): number {
    if (this.opts.batchSize) return this.opts.batchSize;
    const size = (this.manifest.models.find((x) => x.id === modelId) as { networkInputSize?: number } | undefined)
      ?.networkInputSize;
    return size === 512 ? 1 : size === 300 ? 1 : 8;
  }

  /**
   * Scores a series. `provisional`: the series is still arriving — its slices so far are put in
   * order and run, the study gets a provisional score, and the series stays 'receiving'; when it
   * settles, the final run finds those slices done and runs only the rest.
   *
   * The networks of the site's ranking family run first (B3 and Inception-ResNet-V2 take a fifth
   * of the Conv-LSTM's time on a CPU): once they are done and others are still to run, the study
   * gets its ranking score, and `onRanked` is told, so a bleed is ranked and flagged before the
   * slowest network has finished.
   *
   * `yieldTo` (provisional runs): asked before each batch of a network outside the ranking family;
   * when it says so (more slices have arrived, a settled series waits), the run keeps what it has
   * and ends, so the new slices are ranked in the next run instead of after the slowest network.
   * The slices it did not reach run later: in a following run or the final one.
   */
  async scoreSeries(
    seriesUid: string,
    onProgress?: (p: ScoringProgress) => void,
    opts: { provisional?: boolean; onRanked?: () => void; yieldTo?: () => boolean } = {},
  ): Promise<void> {
    const { store, dataDir } = this.opts;
    const loaded = this.loaded();
    if (!loaded.length) throw new Error(`no model could be loaded: ${this.describe()}`);
    await this.reloadIfNeeded();
    if (opts.provisional) store.instances.writeOrder(orderSlices(store.instances.ofSeries(seriesUid)));
    const instances = store.instances.ofSeries(seriesUid);
    const series = store.series.get(seriesUid);
    if (!series || !instances.length) return;

    // A slice this model file has already scored (the series grew after it was scored, or is scored
    // again) keeps its answer; only the others run. Each slice's HU is read from disk at most once.
    const cached = new Map(
      loaded.map((m) => {
        const fp = this.fingerprint(m);
        return [m.modelId, fp ? store.predictions.byFile(m.modelId, fp, instances.map((i) => i.id)) : new Map<number, Float32Array>()];
      }),
    );
    const huCache = new Map<number, ReturnType<typeof readHuFile>>();
    const huOf = (i: number) => {
      let hu = huCache.get(i);
      if (!hu) huCache.set(i, (hu = readHuFile(dataDir, instances[i]!.huPath)));
      return hu;
    };
    const perModel = new Map<string, ArrayLike<number>[]>(); // per network and ensemble, in slice order
    const total = loaded.reduce((n, m) => n + instances.filter((inst) => !cached.get(m.modelId)!.has(inst.id)).length, 0);
    let done = 0;
    const first = new Set(familyNetworks(rankingFamily(store, this.manifest), this.manifest.ensembles));
    const ordered = this.runOrder(loaded, first);
    let yielded = false;
    for (const [n, model] of ordered.entries()) {
      const run = await this.runNetwork(model, instances, cached.get(model.modelId)!, huOf, {
        // Only outside the ranking family, and only while the series still arrives.
        mayYield: () => !!opts.provisional && !first.has(model.modelId) && !!opts.yieldTo?.(),
        onBatch: (count) => {
          done += count;
          onProgress?.({ done, total, modelId: model.modelId });
        },
      });
      // A network cut short has no study score from this run: its answers so far are kept for the next.
      yielded = run.yielded;
      if (yielded) break;
      perModel.set(model.modelId, run.results);
      const rest = ordered.slice(n + 1);
      if (rest.length && first.has(model.modelId) && !rest.some((m) => first.has(m.modelId))) {
        this.saveEnsembles(instances, perModel);
        this.rescoreStudy(series.studyUid, {
          provisional: opts.provisional,
          includingSeries: seriesUid,
          models: new Set(perModel.keys()),
        });
        opts.onRanked?.();
      }
    }
    // Cut short: the ranking score of every slice so far was saved when the family finished.
    if (yielded) return;
    this.saveEnsembles(instances, perModel);
    if (opts.provisional) {
      this.rescoreStudy(series.studyUid, { provisional: true });
      return;
    }
    store.series.setState(seriesUid, 'scored', null);
    this.rescoreStudy(series.studyUid);
  }

  /**
   * The ranking family first (the study is ranked soonest), then the localisation networks (small:
   * the bleed's place and volume come with the ranking, not after the slowest network), then the rest.
   */
  private runOrder(loaded: readonly ModelState[], first: ReadonlySet<string>): ModelState[] {
    const draws = (m: ModelState) => !!this.lesionMap(m.modelId);
    return [
      ...loaded.filter((m) => first.has(m.modelId)),
      ...loaded.filter((m) => !first.has(m.modelId) && draws(m)),
      ...loaded.filter((m) => !first.has(m.modelId) && !draws(m)),
    ];
  }

  private lesionMap(modelId: string): LesionMapOutput | undefined {
    const map = this.maps.get(modelId);
    return map instanceof Error ? undefined : map;
  }

  /**
   * One network over the slices it has not answered yet (`known` holds the answers this model file
   * gave before), batch by batch; what ran is stored. `mayYield`, asked before each batch, ends the
   * run early (`yielded`).
   */
  private async runNetwork(
    model: ModelState,
    instances: readonly InstanceRow[],
    known: ReadonlyMap<number, Float32Array>,
    huOf: (i: number) => Int16Array,
    hooks: { mayYield: () => boolean; onBatch: (count: number) => void },
  ): Promise<{ results: Float32Array[]; yielded: boolean }> {
    const batch = this.batchSize(model.modelId);
    const todo = instances.map((inst, i) => ({ inst, i })).filter(({ inst }) => !known.has(inst.id));
    const results: Float32Array[] = instances.map((inst) => known.get(inst.id) ?? new Float32Array(6));
    const maps: Uint8Array[] = [];
    let ran = 0;
    let yielded = false;
    for (let start = 0; start < todo.length; start += batch) {
      if (hooks.mayYield()) {
        yielded = true;
        break;
      }
      const chunk = todo.slice(start, start + batch);
      const { probabilities, lesionMap } = await this.runBatch(model.modelId, chunk, huOf);
      chunk.forEach(({ i }, k) => (results[i] = probabilities.slice(k * 6, k * 6 + 6)));
      if (lesionMap) {
        const size = lesionMap.length / chunk.length;
        chunk.forEach((_, k) => maps.push(lesionMap.subarray(k * size, (k + 1) * size)));
      }
      ran += chunk.length;
      hooks.onBatch(chunk.length);
    }
    const { store } = this.opts;
    const fingerprint = this.fingerprint(model) ?? null;
    const shape = this.lesionMap(model.modelId);
    store.transaction(() => {
      store.predictions.save(
        model.modelId,
        model.version,
        model.provider ?? 'unknown',
        todo.slice(0, ran).map(({ inst, i }) => ({ instanceId: inst.id, probabilities: results[i]! })),
        fingerprint,
      );
      if (shape && maps.length) {
        store.lesionMaps.save(model.modelId, fingerprint, shape, maps.map((map, k) => ({ instanceId: todo[k]!.inst.id, map })));
      }
    });
    return { results, yielded };
  }

  /**
   * One batch of slices through one network: six probabilities per slice, in the batch's order, and
   * each slice's lesion map when the network draws one.
   */
  private async runBatch(
    modelId: string,
    chunk: readonly { inst: InstanceRow; i: number }[],
    huOf: (i: number) => Int16Array,
  ): Promise<{ probabilities: Float32Array; lesionMap?: Uint8Array | undefined }> {
    const hu = new Float32Array(chunk.length * SLICE_PIXELS);
    const window = new Float32Array(chunk.length * 2);
    chunk.forEach(({ inst, i }, k) => {
      hu.set(huOf(i), k * SLICE_PIXELS);
      window[k * 2] = inst.windowCenter;
      window[k * 2 + 1] = inst.windowWidth;
    });
    const r = await this.request({ type: 'run', id: 0, modelId, hu, window, count: chunk.length }, [hu.buffer, window.buffer]);
    if (r.type !== 'result') throw new Error('unexpected worker reply');
    return { probabilities: r.probabilities, lesionMap: r.lesionMap };
  }

  /** Each ensemble whose members have all run on the series: their weighted mean, stored once. */
  private saveEnsembles(instances: readonly InstanceRow[], perModel: Map<string, ArrayLike<number>[]>): void {
    for (const e of this.manifest.ensembles) {
      const members = e.members.map((id) => perModel.get(id));
      if (members.some((m) => !m) || perModel.has(e.id)) continue; // never half of one, and once
      const combined = instances.map((_, i) => meanOf(members.map((m) => m![i]!), e.weights));
      perModel.set(e.id, combined);
      const providers = [...new Set(e.members.map((id) => this.states.find((st) => st.modelId === id)?.provider))].join('+');
      this.opts.store.predictions.save(
        e.id,
        this.manifest.models.find((m) => m.id === e.members[0])?.version ?? '0',
        providers,
        instances.map((inst, i) => ({ instanceId: inst.id, probabilities: combined[i]! })),
      );
    }
  }

  private fingerprint(state: ModelState): string | null {
    const m = this.manifest.models.find((x) => x.id === state.modelId);
    return m && state.provider ? modelFingerprint(m, state.provider) : null;
  }

  /**
   * Study scores from every scored series of the study: per model, the highest series score.
   * `provisional`: series still arriving count too, and the scores say they are provisional.
   * `includingSeries` and `models`: while a series is being scored, it counts too, for the models
   * (and ensembles) whose run on it is complete; the others keep no study score until it is done.
   */
  rescoreStudy(
    studyUid: string,
    opts: { provisional?: boolean; includingSeries?: string; models?: ReadonlySet<string> } = {},
  ): void {
    const { store } = this.opts;
    const byModel = store.predictions.ofStudy(studyUid, {
      scoredSeriesOnly: true,
      withReceiving: opts.provisional ?? false,
      includingSeries: opts.includingSeries,
    });
    if (opts.models) for (const id of [...byModel.keys()]) if (!opts.models.has(id)) byModel.delete(id);
    const mark = (rows: readonly unknown[]) => (opts.provisional ? { slicesScored: rows.length } : null);
    store.transaction(() => {
      store.scores.clear(studyUid);
      for (const [modelId, rows] of byModel) {
        const { probabilities, keys } = studyLevel(rows);
        store.scores.save(studyUid, modelId, probabilities, keys, mark(rows));
      }
      const family = rankingFamily(store, this.manifest);
      // A lesion-map network's maxima never rank the worklist, not even when no family could run.
      const ranking = rankingSlices(new Map([...byModel].filter(([id]) => !this.lesionMap(id))), family);
      if (ranking) {
        const { probabilities, keys } = studyLevel(ranking.rows);
        store.scores.save(studyUid, RANKING_SCORE_ID, probabilities, keys, mark(ranking.rows));
        store.settings.set(RANKING_IN_USE_SETTING, ranking.family);
      }
      this.saveVolumes(studyUid, opts);
    });
  }

  /** The study's bleed-volume estimate from each localisation network whose run counts (as for its score). */
  private saveVolumes(studyUid: string, opts: { provisional?: boolean; includingSeries?: string; models?: ReadonlySet<string> }): void {
    const { store } = this.opts;
    store.lesionMaps.clearVolumes(studyUid);
    for (const s of this.loaded()) {
      const map = this.lesionMap(s.modelId);
      if (!map || map.volumeWithheld || (opts.models && !opts.models.has(s.modelId))) continue;
      const slices = store.lesionMaps.ofStudy(studyUid, s.modelId, {
        withReceiving: opts.provisional ?? false,
        includingSeries: opts.includingSeries,
      });
      const volume = studyVolume(slices, map.threshold);
      if (volume) store.lesionMaps.saveVolume(studyUid, { ...volume, modelId: s.modelId, provisional: !!opts.provisional });
    }
  }

  async close(): Promise<void> {
    if (!this.worker) return;
    try {
      await this.request({ type: 'close', id: 0 });
    } catch {
      // the worker is going away anyway
    }
    await this.worker?.terminate();
    this.worker = undefined;
  }
}
