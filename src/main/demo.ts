/**
 * `npm run demo`: the main job on bundled defaults, end to end.
 *
 *  1. Synthetic head-CT studies are generated (models/phantom; fixed seed) — clearly fake
 *     patients, some with bleeds, some without.
 *  2. They land one after another in an import folder that the core watches, exactly as files
 *     from a scanner's export would; the core reads, settles, runs every model of the manifest
 *     and ranks the studies.
 *  3. The ranked worklist is printed; then the radiologist's screen opens (Electron when its
 *     binary is installed, else the browser preview on 127.0.0.1, URL printed).
 *
 * Everything lives under .demo/ in the repository (ignored by git) and is made afresh each run.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import type { TriageCore } from './core.js';
import { RANKING_SCORE_ID } from './store/index.js';
import { formatWorklist } from './cli/index.js';
import { startWorkstation } from './workstation.js';

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const PYTHON = '/usr/bin/python3';

interface DemoOptions {
  studies: string;
  seed: string;
  slices: string;
  screen: boolean;
  port: string;
  dir: string;
}

export async function runDemo(argv: string[]): Promise<number> {
  const program = new Command('demo')
    .option('--studies <n>', 'phantom studies to generate', '4')
    .option('--seed <s>', 'phantom seed', '2026')
    .option('--slices <n>', 'slices per study', '24')
    .option('--no-screen', 'print the worklist and exit without opening the screen')
    .option('--port <p>', 'port of the browser preview (0: any free port)', '0')
    .option('--dir <dir>', 'where the demo keeps its files', join(REPO_ROOT, '.demo'))
    .parse(argv);
  const opts = program.opts<DemoOptions>();
  const say = (s: string) => process.stdout.write(`${s}\n`);
  const root = resolve(opts.dir);
  const phantoms = join(root, 'phantoms');
  const importDir = join(root, 'import');
  const dataDir = join(root, 'data');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(importDir, { recursive: true });

  say(`1/3 generating ${opts.studies} synthetic head-CT studies (seed ${opts.seed}) into ${phantoms}`);
  execFileSync(
    PYTHON,
    ['-m', 'models.phantom', 'generate', '--studies', opts.studies, '--seed', opts.seed, '--out', phantoms,
      '--slices-min', opts.slices, '--slices-max', opts.slices],
    { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );

  say(`2/3 studies land in ${importDir}; the core watches it and runs the models (CPU, this takes a few minutes)`);
  const ws = await startWorkstation({
    dataDir,
    core: { settleMs: 2000, stableMs: 500 },
    onModelError: 'continue',
    log: (m) => say(`    ${m}`),
  });
  const core = ws.core;
  if (!ws.modelsLoaded) say('    NO MODEL LOADED: studies will show "awaiting model" (see the lines above for why)');
  let scored = 0;
  const studies = readdirSync(phantoms).filter((d) => d.startsWith('study_')).sort();
  core.on((e) => {
    if (e.type === 'series-scored') say(`    scored ${++scored}/${studies.length} studies`);
  });
  ws.startWatch(importDir);
  for (const s of studies) {
    // Only the images arrive, as from a scanner's export; the generator's phantom.json stays behind.
    cpSync(join(phantoms, s), join(importDir, s), { recursive: true, filter: (src) => !src.endsWith('.json') });
    say(`    arrived: ${s}`);
  }
  while (scored < studies.length) await new Promise((r) => setTimeout(r, 250));
  await core.idle();
  say('\n3/3 the ranked worklist (most likely bleed first). Scores come from models trained from scratch on');
  say('    synthetic data only (phantoms; synthetic bleeds in one real head CT): NOT clinically validated.\n');
  const rows = core.worklist();
  say(formatWorklist(rows));
  say(`\n    ${checkAgainstPhantomLabels(core, phantoms, rows.map((r) => r.studyUid))}`);
  await ws.stop();

  if (!opts.screen) return 0;
  const { startDemoScreen } = await import('./server/demo.js');
  const screen = await startDemoScreen({ dataDir, importDir, port: Number(opts.port), out: say });
  say('Ctrl-C to stop.');
  await new Promise<void>((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });
  await screen.stop();
  return 0;
}

/**
 * The demo's phantoms carry their own truth (stage_2_train.csv, studies.csv): does the worklist put
 * every bleeding study above every normal one, and does each bleeding study's first key slice hold
 * a bleed? One line, so the demo says whether the models do their job on its own studies.
 */
function checkAgainstPhantomLabels(core: TriageCore, phantoms: string, order: string[]): string {
  const sliceBleeds = new Map<string, boolean>();
  for (const line of readFileSync(join(phantoms, 'stage_2_train.csv'), 'utf8').split(/\r?\n/)) {
    const m = /^(ID_[0-9a-f]+)_any,([01])$/.exec(line.trim());
    if (m) sliceBleeds.set(m[1]!, m[2] === '1');
  }
  const [header, ...lines] = readFileSync(join(phantoms, 'studies.csv'), 'utf8').trim().split(/\r?\n/);
  const col = header!.split(',');
  const studyBleeds = new Map(lines.map((l) => l.split(',')).map((c) => [c[col.indexOf('StudyInstanceUID')]!, c[col.indexOf('any')] === '1']));
  const ranks = order.map((uid) => studyBleeds.get(uid));
  const lastBleeding = ranks.lastIndexOf(true);
  const firstNormal = ranks.indexOf(false);
  const above = firstNormal === -1 || lastBleeding < firstNormal;
  const bleeding = order.filter((uid) => studyBleeds.get(uid));
  const keyHits = bleeding.filter((uid) => {
    const key = core.store.scores.get(uid, RANKING_SCORE_ID)?.keySlices[0];
    const sop = key === undefined ? undefined : core.store.instances.sopUid(key);
    return sop !== undefined && sliceBleeds.get(sop) === true;
  }).length;
  return (
    `check against the phantoms' own labels: every bleeding study above every normal one: ${above ? 'yes' : 'NO'} ` +
    `(${bleeding.length} bleeding, ${order.length - bleeding.length} normal); the first key slice holds a bleed in ${keyHits}/${bleeding.length}`
  );
}

