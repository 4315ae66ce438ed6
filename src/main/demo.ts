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
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { compose } from './core.js';
import { formatWorklist } from './cli/format.js';
import { attachModels } from './inference/attach.js';

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
  const core = compose({ dataDir, settleMs: 2000, stableMs: 500, log: (m) => say(`    ${m}`) });
  if (!(await attachModels(core, { log: (m) => say(`    ${m}`) }))) {
    say('    no model installed: studies will show "awaiting model"');
  }
  let scored = 0;
  const studies = readdirSync(phantoms).filter((d) => d.startsWith('study_')).sort();
  core.on((e) => {
    if (e.type === 'series-scored') say(`    scored ${++scored}/${studies.length} studies`);
  });
  core.watch(importDir);
  for (const s of studies) {
    // Only the images arrive, as from a scanner's export; the generator's phantom.json stays behind.
    cpSync(join(phantoms, s), join(importDir, s), { recursive: true, filter: (src) => !src.endsWith('.json') });
    say(`    arrived: ${s}`);
  }
  while (scored < studies.length) await new Promise((r) => setTimeout(r, 250));
  await core.idle();
  say('\n3/3 the ranked worklist (most likely bleed first). Scores come from models trained from scratch on');
  say('    synthetic phantoms only: NOT clinically validated.\n');
  say(formatWorklist(core.worklist()));
  await core.stop();

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
