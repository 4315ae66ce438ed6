/**
 * `triage serve` as a function: the headless core, the API over it, the built renderer and the
 * loopback server, wired together; stop() shuts them down in the reverse order (the core's stop
 * finishes or safely requeues work).
 */
import { resolve } from 'node:path';
import { compose, type CoreOptions, type TriageCore } from '../core.js';
import { SETTING, TriageApiImpl } from '../api/index.js';
import { attachModels } from '../inference/attach.js';
import { ensureRendererBuilt, RENDERER_DIST } from './renderer-build.js';
import { startServer, type RunningServer } from './index.js';

export interface ServeOptions {
  dataDir: string;
  port?: number;
  /** Folder to watch; else the stored import folder setting, if any, when `watchStored`. */
  watch?: string | undefined;
  watchStored?: boolean;
  rendererDir?: string;
  /** Load the manifest's models (default true); tests that write model outputs themselves say false. */
  models?: boolean;
  modelsDir?: string;
  cuda?: boolean;
  core?: Omit<CoreOptions, 'dataDir'>;
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
  const core = compose({ log, ...opts.core, ...(opts.modelsDir ? { modelsDir: opts.modelsDir } : {}), dataDir: opts.dataDir });
  if (opts.models !== false) {
    try {
      await attachModels(core, { modelsDir: opts.modelsDir, ...(opts.cuda !== undefined ? { cuda: opts.cuda } : {}), log });
    } catch (err) {
      await core.stop();
      throw err;
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
  const folder = opts.watch ?? (opts.watchStored ? core.store.getSetting<string>(SETTING.importFolder) : undefined);
  if (folder) startWatch(folder);
  // Without a watcher nothing else starts the queue: series that awaited a model (requeued when
  // the models attached) or were left queued by an earlier run are scored now.
  const jobs = folder ? Promise.resolve() : core.runJobs().catch((err: unknown) => log(`jobs: ${(err as Error).message}`));
  let server: RunningServer;
  try {
    server = await startServer({ api, rendererDir, port: opts.port ?? 0, log });
  } catch (err) {
    api.close();
    await core.stop();
    throw err;
  }
  return {
    url: server.url,
    token: server.token,
    core,
    api,
    server,
    startWatch,
    stop: async () => {
      await server.close();
      api.close();
      await core.stop();
      await jobs;
    },
  };
}
