/**
 * The workstation as one composition: the core, the manifest's models, the import-folder watcher
 * and the API over them, wired in one place for the two front ends that show the screen — the
 * loopback server (`triage serve`, server/serve.ts) and the Electron app (electron/main.ts). Each
 * adds only its transport. stop() takes them down in reverse order.
 *
 * The command-line commands that score (import, watch), the demo and the bench start it too and use
 * the core it holds; only the read-only commands (status, worklist, quarantine, audit) open a bare
 * reader core.
 */
import { resolve } from 'node:path';
import { compose, type CoreOptions, type TriageCore } from './core.js';
import { SETTING, TriageApiImpl } from './api/index.js';
import { attachModels } from './inference/attach.js';
import type { DatabaseSource } from '../shared/api.js';

export interface WorkstationOptions {
  dataDir: string;
  /** A shared PostgreSQL database (`postgres://…`); absent, SQLite in the data folder (CoreOptions.database). */
  database?: string | undefined;
  /** The folder the workstations on that database share for HU copies (CoreOptions.sharedDir). */
  sharedDir?: string | undefined;
  /** What chose the database (start-config.ts: chooseStart); the status and Settings say it. */
  databaseSource?: DatabaseSource | undefined;
  modelsDir?: string | undefined;
  cuda?: boolean;
  /** Load the manifest's models (default true); tests that write model outputs themselves say false. */
  models?: boolean;
  /**
   * When the models cannot be loaded (a broken manifest): 'throw' (the server, started by someone
   * at a terminal) or 'continue' (the desktop app: the worklist must open; series wait for a model).
   */
  onModelError?: 'throw' | 'continue';
  /** Folder to watch; else the stored import folder setting when `watchStored`. */
  watch?: string | undefined;
  watchStored?: boolean;
  core?: Omit<CoreOptions, 'dataDir' | 'database' | 'databaseSource' | 'sharedDir' | 'log'>;
  log?: (m: string) => void;
}

export interface Workstation {
  core: TriageCore;
  api: TriageApiImpl;
  /** Models loaded and scoring (0: nothing will be scored; the series wait for a model). */
  modelsLoaded: number;
  /** Starts watching a folder (no-op when one is watched already). */
  startWatch(folder: string): void;
  watching(): string | null;
  stop(): Promise<void>;
}

export async function startWorkstation(opts: WorkstationOptions): Promise<Workstation> {
  const log = opts.log ?? (() => {});
  const core = compose({ ...opts.core, ...(opts.modelsDir ? { modelsDir: opts.modelsDir } : {}), dataDir: opts.dataDir, database: opts.database, databaseSource: opts.databaseSource, sharedDir: opts.sharedDir, log });
  let modelsLoaded = 0;
  if (opts.models !== false) {
    try {
      modelsLoaded = await attachModels(core, { modelsDir: opts.modelsDir, ...(opts.cuda !== undefined ? { cuda: opts.cuda } : {}), log });
    } catch (err) {
      if (opts.onModelError !== 'continue') {
        await core.stop();
        throw err;
      }
      log(`models not loaded: ${(err as Error).message}`);
    }
  }
  let watching: string | null = null;
  const startWatch = (folder: string) => {
    if (watching) return;
    watching = resolve(folder);
    core.watch(watching);
    log(`watching ${watching}`);
  };
  const api = new TriageApiImpl(core, { startWatch, watching: () => watching });
  const folder = opts.watch ?? (opts.watchStored ? core.store.settings.get<string>(SETTING.importFolder) : undefined);
  if (folder) startWatch(folder);
  // Without a watcher nothing else starts the queue: series that awaited a model (requeued when
  // the models attached) or were left queued by an earlier run are scored now.
  const jobs = folder ? Promise.resolve() : core.runJobs().catch((err: unknown) => log(`jobs: ${(err as Error).message}`));
  return {
    core,
    api,
    modelsLoaded,
    startWatch,
    watching: () => watching,
    stop: async () => {
      api.close();
      await core.stop();
      await jobs;
    },
  };
}
