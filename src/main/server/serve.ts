/**
 * `triage serve` as a function: the headless core, the API over it, the built renderer and the
 * loopback server, wired together; stop() shuts them down in the reverse order (the core's stop
 * finishes or safely requeues work).
 */
import type { CoreOptions, TriageCore } from '../core.js';
import type { DatabaseSource } from '../../shared/api.js';
import type { TriageApiImpl } from '../api/index.js';
import { startWorkstation } from '../workstation.js';
import { ensureRendererBuilt, RENDERER_DIST } from './renderer-build.js';
import { startServer, type RunningServer } from './index.js';

export interface ServeOptions {
  dataDir: string;
  /** A shared PostgreSQL database (`postgres://…`); absent, SQLite in the data folder. */
  database?: string | undefined;
  /** The folder the workstations on that database share for HU copies. */
  sharedDir?: string | undefined;
  /** What chose the database (start-config.ts), said in status and Settings. */
  databaseSource?: DatabaseSource | undefined;
  port?: number;
  /** Folder to watch; else the stored import folder setting, if any, when `watchStored`. */
  watch?: string | undefined;
  watchStored?: boolean;
  rendererDir?: string;
  /** Load the manifest's models (default true); tests that write model outputs themselves say false. */
  models?: boolean;
  modelsDir?: string;
  cuda?: boolean;
  core?: Omit<CoreOptions, 'dataDir' | 'database' | 'databaseSource' | 'sharedDir'>;
  log?: (m: string) => void;
}

export interface Serving {
  /** The address to open, carrying the per-launch API token. */
  url: string;
  token: string;
  core: TriageCore;
  api: TriageApiImpl;
  server: RunningServer;
  /** Starts watching a folder (no-op when one is watched already). */
  startWatch(folder: string): void;
  stop(): Promise<void>;
}

export async function serve(opts: ServeOptions): Promise<Serving> {
  const log = opts.log ?? (() => {});
  const rendererDir = await ensureRendererBuilt(opts.rendererDir ?? RENDERER_DIST, log);
  const ws = await startWorkstation({
    dataDir: opts.dataDir,
    database: opts.database,
    sharedDir: opts.sharedDir,
    databaseSource: opts.databaseSource,
    modelsDir: opts.modelsDir,
    ...(opts.cuda !== undefined ? { cuda: opts.cuda } : {}),
    ...(opts.models !== undefined ? { models: opts.models } : {}),
    onModelError: 'throw',
    watch: opts.watch,
    ...(opts.watchStored !== undefined ? { watchStored: opts.watchStored } : {}),
    ...(opts.core ? { core: opts.core } : {}),
    log,
  });
  let server: RunningServer;
  try {
    server = await startServer({ api: ws.api, rendererDir, port: opts.port ?? 0, log });
  } catch (err) {
    await ws.stop();
    throw err;
  }
  return {
    url: server.url,
    token: server.token,
    core: ws.core,
    api: ws.api,
    server,
    startWatch: ws.startWatch,
    stop: async () => {
      await server.close();
      await ws.stop();
    },
  };
}
