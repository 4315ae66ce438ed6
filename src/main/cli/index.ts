/**
 * The headless `triage` command (commander). Exit codes scripts can rely on:
 *   0  done; every file was stored (or had been already)
 *   1  error (bad data folder, unreadable manifest, …)
 *   2  usage error (unknown command or option)
 *   3  done, but some files were quarantined or conflicted (`triage quarantine` lists them),
 *      now or at an earlier import of the same unchanged file
 *   4  import: no model is loaded, so nothing was scored (`--no-models` to import anyway)
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { DEFAULT_RELEASE_SETTLE_MS } from '../assemble/index.js';
import { compose, defaultDataDir, type TriageCore } from '../core.js';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { evaluateStored, formatReport, parseLabelsCsv, reportHtml, rsnaId, submissionCsv } from '../evaluate/index.js';
import { loadManifest } from '../inference/index.js';
import { rankingFamily, RANKING_SETTING } from '../inference/index.js';
import { startWorkstation, type Workstation } from '../workstation.js';
import { startChoiceOf, type StartChoice } from '../start-config.js';
import { registerServeCommand } from '../server/cli.js';
import { RANKING_SCORE_ID } from '../store/index.js';
import { familyThresholds, rankingSlices } from '../triage/index.js';
import type { IngestOutcome } from '../ingest/index.js';
import { formatQuarantine, formatWorklist, printable, table } from './format.js';

export { formatWorklist } from './format.js';

export const EXIT = { ok: 0, error: 1, usage: 2, refusedFiles: 3, noModel: 4 } as const;

interface GlobalOptions {
  dataDir?: string;
  database?: string;
  sharedDir?: string;
  modelsDir?: string;
  cuda?: boolean;
  init?: boolean;
}

/**
 * The data folder a command works on. A folder named on the command line (or by TRIAGE_DATA_DIR)
 * that does not exist is an error unless `--init` asks for it, or the command is a long-running
 * one (`watch`, `serve`) whose first start makes it: a mistyped path must not silently become a
 * new, empty database. The default folder is ours and is made when needed.
 */
function dataDirOf(cmd: Command, opts: { create: 'always' | 'with-init' | 'never' }): string {
  const { dataDir, init, database } = cmd.optsWithGlobals<GlobalOptions>();
  const dir = resolve(dataDir ?? defaultDataDir());
  if (existsSync(dir)) return dir;
  // A reader of a PostgreSQL database reads nothing of the data folder's: it need not exist.
  if (database && opts.create === 'never') return dir;
  if (dataDir === undefined && opts.create !== 'never') return dir;
  if (opts.create === 'always' || (opts.create === 'with-init' && init)) return dir;
  throw new CliError(
    opts.create === 'never'
      ? `data folder ${dir} does not exist (nothing has been imported there; check the path)`
      : `data folder ${dir} does not exist: check the path, or pass --init to create it`,
  );
}

/** A failure the user can fix, said in one line without a stack. */
export class CliError extends Error {}

const log = (m: string) => process.stderr.write(`${m}\n`);

/** A core that only reads (status, worklist, quarantine, audit): no lock, nothing requeued or swept. */
function openReader(cmd: Command): TriageCore {
  const { modelsDir } = cmd.optsWithGlobals<GlobalOptions>();
  const dataDir = dataDirOf(cmd, { create: 'never' });
  const { database, source } = startChoiceOf(cmd, dataDir);
  return compose({ dataDir, database, databaseSource: source, ...(modelsDir ? { modelsDir } : {}), log, readOnly: true });
}

/**
 * The workstation as every entry point composes it (workstation.ts): the core, the manifest's
 * models on ready series (none installed: series await one), the API; the command adds its own
 * output. A broken manifest stops the command with its reason.
 */
async function openWorkstation(
  cmd: Command,
  extra: { settleMs?: number; stableMs?: number; releaseSettleMs?: number | null } = {},
  dataDirOverride?: string,
  create: 'always' | 'with-init' = 'with-init',
): Promise<Workstation> {
  const { modelsDir, cuda } = cmd.optsWithGlobals<GlobalOptions>();
  const dataDir = dataDirOverride ?? dataDirOf(cmd, { create });
  // An evaluation's own data folder is its own SQLite database: it never mixes into the site's worklist.
  const start: StartChoice = dataDirOverride ? { database: undefined, sharedDir: undefined, source: 'default' } : startChoiceOf(cmd, dataDir);
  return startWorkstation({
    dataDir,
    database: start.database,
    sharedDir: start.sharedDir,
    databaseSource: dataDirOverride ? undefined : start.source,
    modelsDir,
    ...(cuda === false ? { cuda: false } : {}),
    onModelError: 'throw',
    core: extra,
    log,
  });
}

/** Where a command's own output goes (stdout; a test passes its own). */
type Out = (s: string) => void;

function summarise(outcomes: IngestOutcome[]): Record<string, number> {
  const counts: Record<string, number> = { stored: 0, duplicate: 0, unchanged: 0, quarantined: 0, conflict: 0, vanished: 0, skipped: 0 };
  for (const o of outcomes) counts[o.outcome] = (counts[o.outcome] ?? 0) + 1;
  return counts;
}

/**
 * One line for the files stored with HU read other than their header says (the DICOM reader's one
 * correction), or null when there are none: whoever imported them should know, and tell the sender.
 */
function huCorrectedLine(outcomes: readonly IngestOutcome[]): string | null {
  const corrected = outcomes.filter((o) => o.huCorrection !== undefined);
  const first = corrected[0];
  if (!first) return null;
  return `HU corrected in ${corrected.length} stored file(s) (first: ${printable(first.path)}): ${printable(first.huCorrection ?? '')}`;
}

/** Prints an import's summary (text or JSON) and returns its exit code (EXIT, above). */
function reportImport(outcomes: IngestOutcome[], opts: { modelsLoaded: number; json: boolean; requireModel: boolean }, out: Out): number {
  const counts = summarise(outcomes);
  const refused = outcomes.filter((o) => o.outcome === 'quarantined' || o.outcome === 'conflict');
  // Unchanged files that an earlier import refused are still refused: say so every time.
  const stillRefused = outcomes.filter((o) => o.outcome === 'unchanged' && o.reason !== undefined);
  const skipped = outcomes.filter((o) => o.outcome === 'skipped');
  const noModel = opts.modelsLoaded === 0 && opts.requireModel;
  if (opts.json) {
    const { modelsLoaded } = opts;
    out(`${JSON.stringify({ files: outcomes.length, ...counts, stillRefused: stillRefused.length, modelsLoaded, refused, stillRefusedFiles: stillRefused, skippedFiles: skipped, huCorrectedFiles: outcomes.filter((o) => o.huCorrection !== undefined) }, null, 2)}\n`);
  } else {
    out(
      `${outcomes.length} file(s): ${counts.stored} stored, ${counts.duplicate} duplicate, ${counts.unchanged} already imported` +
        `${stillRefused.length ? ` (${stillRefused.length} of them still refused)` : ''}, ` +
        `${counts.quarantined} quarantined, ${counts.conflict} conflict(s), ${counts.skipped} skipped (not DICOM)\n`,
    );
    for (const r of refused) out(`  refused ${printable(r.path)}: ${printable(r.reason ?? '')}\n`);
    for (const r of stillRefused) out(`  still refused ${printable(r.path)}: ${printable(r.reason ?? '')}\n`);
    for (const r of skipped) out(`  skipped ${printable(r.path)}: ${printable(r.reason ?? '')}\n`);
    const correctedLine = huCorrectedLine(outcomes);
    if (correctedLine) out(`  ${correctedLine}\n`);
    if (noModel) {
      out('NO MODEL LOADED: nothing was scored; the series wait as "awaiting model" (see `triage status`).\n');
      out('  Install models (models/manifest.json) or pass --no-models to import without scoring.\n');
    }
  }
  return refused.length || stillRefused.length ? EXIT.refusedFiles : noModel ? EXIT.noModel : EXIT.ok;
}

/** `triage import <folder>`: one pass over a folder, scored, then a summary and an exit code scripts can rely on. */
function registerImportCommand(program: Command, out: Out): void {
  program
    .command('import')
    .description('read every file under <folder> once, settle its series, then exit')
    .argument('<folder>', 'folder of DICOM files (searched recursively)')
    .option('--json', 'print the summary as JSON')
    .option('--no-models', 'import without scoring: do not fail when no model is installed')
    .action(async (folder: string, opts: { json?: boolean; models?: boolean }, cmd: Command) => {
      const ws = await openWorkstation(cmd);
      const { core, modelsLoaded } = ws;
      const bar =
        process.stderr.isTTY && !opts.json
          ? new cliProgress.SingleBar({ format: 'import [{bar}] {value}/{total} files  {outcome}', stream: process.stderr }, cliProgress.Presets.shades_classic)
          : undefined;
      // Inference runs after the files are read; say where it is, so minutes of scoring are not silence.
      const quarter = new Map<string, number>();
      const offScoring = core.on((e) => {
        if (e.type === 'series-scored') log(`scored series ${e.seriesUid}`);
        if (e.type !== 'series-scoring') return;
        const { done, total, modelId } = e.progress;
        const q = Math.floor((4 * done) / total);
        if (q === (quarter.get(e.seriesUid) ?? -1)) return;
        quarter.set(e.seriesUid, q);
        log(`scoring series ${e.seriesUid}: ${done}/${total} slice runs (${modelId})`);
      });
      try {
        let started = false;
        const outcomes = await core.importFolder(folder, (done, total, o) => {
          if (bar && !started) {
            bar.start(total, 0, { outcome: '' });
            started = true;
          }
          bar?.update(done, { outcome: o.outcome });
        });
        bar?.stop();
        process.exitCode = reportImport(outcomes, { modelsLoaded, json: opts.json === true, requireModel: opts.models !== false }, out);
      } finally {
        offScoring();
        bar?.stop();
        await ws.stop();
      }
    });
}

/** `--release-settle`: seconds (milliseconds returned), or 'off'. */
function parseReleaseSettle(value: string): number | null {
  if (value === 'off') return null;
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0) throw new InvalidArgumentError(`"${value}" is not a number of seconds ≥ 0 or 'off'`);
  return seconds * 1000;
}

/** `triage watch [folder] [--listen port]`: a station that reads slices as they land until Ctrl-C. */
function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description('watch [folder] and/or receive DICOM (--listen): read slices as they land, keep the worklist current')
    .argument('[folder]', 'the import folder (watched recursively)')
    .option('--settle <seconds>', 'a series is ready when no slice arrived for this long', '10')
    .option('--stable <seconds>', 'a file is read once its size has not changed for this long', '2')
    .option('--listen <port>', 'also run the DICOM receiver (C-STORE SCP) on this port')
    .addOption(
      new Option(
        '--release-settle <seconds>',
        "receiving: a series is ready this long after its sender released the association that carried all of it ('off': only --settle)",
      )
        .argParser(parseReleaseSettle)
        .default(DEFAULT_RELEASE_SETTLE_MS, String(DEFAULT_RELEASE_SETTLE_MS / 1000)),
    )
    .option('--ae <title>', 'our AE title for the receiver', 'ICH_TRIAGE')
    .option('--allow <titles>', 'calling AE titles allowed to send, comma-separated (default: any)')
    .option('--bind <host>', 'interface the receiver listens on (default 127.0.0.1)')
    .action(async (
      folder: string | undefined,
      opts: { settle: string; stable: string; releaseSettle: number | null; listen?: string; ae: string; allow?: string; bind?: string },
      cmd: Command,
    ) => {
      if (!folder && !opts.listen) throw new InvalidArgumentError('give a folder to watch, --listen <port>, or both');
      // A watch is a station's first start: it makes its data folder.
      const ws = await openWorkstation(
        cmd,
        { settleMs: Number(opts.settle) * 1000, stableMs: Number(opts.stable) * 1000, releaseSettleMs: opts.releaseSettle },
        undefined,
        'always',
      );
      const { core } = ws;
      core.on((e) => {
        if (e.type === 'file' && e.outcome.outcome !== 'unchanged') {
          process.stderr.write(`${e.outcome.outcome}: ${e.outcome.path}${e.outcome.reason ? ` (${e.outcome.reason})` : ''}\n`);
        }
        if (e.type === 'series-ready') process.stderr.write(`series ready: ${e.seriesUid}\n`);
      });
      if (folder) {
        ws.startWatch(folder);
        process.stderr.write(`watching ${folder} (data folder ${core.dataDir}, database: ${core.database})\n`);
      }
      if (opts.listen) {
        const receiver = await core.listen({
          port: Number(opts.listen),
          aeTitle: opts.ae,
          allowedCallingAeTitles: opts.allow ? opts.allow.split(',').map((t) => t.trim()).filter(Boolean) : [],
          ...(opts.bind ? { host: opts.bind } : {}),
        });
        process.stderr.write(`DICOM receiver ${opts.ae} listening on ${receiver.address.host}:${receiver.port}\n`);
      }
      process.stderr.write('Ctrl-C to stop\n');
      await new Promise<void>((resolveStop) => {
        const stop = () => resolveStop();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await ws.stop();
    });
}

/** `triage worklist`: the ranked rows, read-only. */
function registerWorklistCommand(program: Command, out: Out): void {
  program
    .command('worklist')
    .description('the ranked worklist: most likely bleed first')
    .option('--json', 'print rows as JSON')
    .option('--limit <n>', 'at most n rows')
    .action((opts: { json?: boolean; limit?: string }, cmd: Command) => {
      const core = openReader(cmd);
      try {
        const rows = core.worklist(opts.limit ? { limit: Number(opts.limit) } : {});
        out(opts.json ? `${JSON.stringify(rows, null, 2)}\n` : `${formatWorklist(rows)}\n`);
      } finally {
        void core.stop();
      }
    });
}

/** `triage quarantine`: every refused file with its reason, read-only. */
function registerQuarantineCommand(program: Command, out: Out): void {
  program
    .command('quarantine')
    .description('files refused, each with its path and reason')
    .option('--json', 'print rows as JSON')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const core = openReader(cmd);
      try {
        const rows = core.quarantine();
        out(opts.json ? `${JSON.stringify(rows, null, 2)}\n` : `${formatQuarantine(rows)}\n`);
      } finally {
        void core.stop();
      }
    });
}

/** `triage status`: counts, pipeline state and models, read-only. */
function registerStatusCommand(program: Command, out: Out): void {
  program
    .command('status')
    .description('counts, pipeline state and the models in use')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const core = openReader(cmd);
      try {
        const s = core.status();
        if (opts.json) out(`${JSON.stringify(s, null, 2)}\n`);
        else {
          out(`data folder: ${s.dataDir}\ndatabase: ${s.database}\nmodels: ${s.models}\n`);
          out(`${table(['what', 'count'], Object.entries(s.counts).map(([k, v]) => [k, String(v)]))}\n`);
        }
      } finally {
        void core.stop();
      }
    });
}

/** `triage audit verify`: walks the hash chain; exit 1 at the first broken link. */
function registerAuditCommand(program: Command, out: Out): void {
  program
    .command('audit')
    .description('the audit trail')
    .command('verify')
    .description('walk the hash-chained audit log and the reviews; report the first broken link (exit 1)')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const core = openReader(cmd);
      try {
        const v = core.store.audit.verify();
        if (opts.json) out(`${JSON.stringify(v, null, 2)}\n`);
        else if (v.ok) out(`audit log intact: ${v.rows} row(s), ${v.reviews} review(s) match it; head ${v.head}\n`);
        else out(`audit log BROKEN at row ${v.firstBreak!.id}: ${v.firstBreak!.problem}\n`);
        if (!v.ok) process.exitCode = EXIT.error;
      } finally {
        void core.stop();
      }
    });
}

/** `triage evaluate --data <folder>`: the app end to end on a labelled RSNA-format folder, in a database of its own. */
function registerEvaluateCommand(program: Command, out: Out): void {
  program
    .command('evaluate')
    .description('import an RSNA-format folder, run the models, and score them with the seed papers\' metrics')
    .requiredOption('--data <folder>', 'folder with ID_*.dcm and stage_2_train.csv')
    .option('--json <file>', 'write the full report as JSON')
    .option('--html <file>', 'write ROC curves as a self-contained HTML page (chart.js)')
    .option('--ranking <family>', 'ranking family to evaluate: convlstm, ensemble or mean')
    .action(async (opts: { data: string; json?: string; html?: string; ranking?: string }, cmd: Command) => {
      const labelsPath = join(opts.data, 'stage_2_train.csv');
      if (!existsSync(labelsPath)) throw new Error(`${labelsPath}: no labels file (stage_2_train.csv) in --data`);
      const labels = parseLabelsCsv(readFileSync(labelsPath, 'utf8'), labelsPath);
      const { dataDir } = cmd.optsWithGlobals<GlobalOptions>();
      // A temporary database by default, so an evaluation never mixes into the site's worklist.
      const evalDir = dataDir === undefined ? mkdtempSync(join(tmpdir(), 'triage-evaluate-')) : dataDirOf(cmd, { create: 'with-init' });
      const ws = await openWorkstation(cmd, {}, evalDir);
      const { core } = ws;
      try {
        const manifest = loadManifest(cmd.optsWithGlobals<GlobalOptions>().modelsDir);
        if (!manifest.models.length) throw new Error('no model installed: models/manifest.json lists none');
        if (opts.ranking) core.store.settings.set(RANKING_SETTING, opts.ranking);
        // The RSNA layout keeps label and metadata files beside the images: not slices, not refusals.
        const outcomes = await core.importFolder(opts.data, undefined, (p) => !/\.(csv|json|md|txt)$/i.test(p));
        const refused = outcomes.filter((o) => o.outcome === 'quarantined' || o.outcome === 'conflict');
        for (const r of refused) log(`refused ${printable(r.path)}: ${printable(r.reason ?? '')}`);
        const correctedLine = huCorrectedLine(outcomes);
        if (correctedLine) log(correctedLine);
        const report = evaluateStored({
          predictions: core.store.predictions.all(),
          labels,
          dataFolder: resolve(opts.data),
          // The same policy the screen flags by (triage/policy.ts): one set of numbers.
          thresholdsFor: (id) => familyThresholds(manifest, id === RANKING_SCORE_ID ? rankingFamily(core.store, manifest) : id),
          rankingFamily: rankingFamily(core.store, manifest),
        });
        out(formatReport(report));
        if (opts.json) writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
        if (opts.html) writeFileSync(opts.html, reportHtml(report));
        log(`database: ${evalDir}`);
      } finally {
        await ws.stop();
      }
    });
}

/** `triage export-predictions`: every slice's probabilities in the RSNA submission format. */
function registerExportPredictionsCommand(program: Command, out: Out): void {
  program
    .command('export-predictions')
    .description('write every slice\'s probabilities in the RSNA submission format (ID,Label)')
    .requiredOption('--out <file.csv>', 'where to write')
    .option('--model <id>', 'a model id, an ensemble id, or "ranking" (the site\'s ranking family)', 'ranking')
    .action((opts: { out: string; model: string }, cmd: Command) => {
      const core = openReader(cmd);
      try {
        const byModel = core.store.predictions.all();
        const rows = opts.model === RANKING_SCORE_ID ? rankingSlices(byModel, rankingFamily(core.store, core.manifest()))?.rows : byModel.get(opts.model);
        if (!rows?.length) {
          throw new Error(`no predictions for "${opts.model}" (stored: ${[...byModel.keys()].join(', ') || 'none'})`);
        }
        writeFileSync(opts.out, submissionCsv(rows.map((r) => ({ id: rsnaId(r.sopUid, r.sourcePath), probabilities: r.probabilities }))));
        out(`${rows.length} slice(s) × 6 labels written to ${opts.out}\n`);
      } finally {
        void core.stop();
      }
    });
}

export function buildProgram(out: Out = (s) => process.stdout.write(s)): Command {
  const program = new Command('triage')
    .description('ICH triage workstation core: import head-CT DICOM, rank studies, list refusals.')
    .addOption(new Option('--data-dir <dir>', 'where the database and slice store live').env('TRIAGE_DATA_DIR'))
    .addOption(
      new Option('--database <url>', 'a PostgreSQL database several workstations share (postgres://user:password@host/db); default: SQLite in --data-dir').env(
        'TRIAGE_DATABASE',
      ),
    )
    .addOption(
      new Option('--shared-dir <dir>', 'with --database: the folder every workstation on that database mounts, for the HU copies of slices').env(
        'TRIAGE_SHARED_DIR',
      ),
    )
    .addOption(new Option('--models-dir <dir>', 'folder with manifest.json and the ONNX models').env('TRIAGE_MODELS_DIR'))
    .option('--no-cuda', 'do not try the CUDA execution provider; run models on the CPU')
    .option('--init', 'create the data folder named by --data-dir if it does not exist')
    .showHelpAfterError()
    .exitOverride();

  registerImportCommand(program, out);
  registerWatchCommand(program);
  registerWorklistCommand(program, out);
  registerQuarantineCommand(program, out);
  registerStatusCommand(program, out);
  registerAuditCommand(program, out);
  registerEvaluateCommand(program, out);
  registerExportPredictionsCommand(program, out);
  registerServeCommand(program);
  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`triage: ${err.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`triage: ${(err as Error).message}\n`);
    return EXIT.error;
  }
}
