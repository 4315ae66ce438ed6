/**
 * The screen part of `npm run demo` (bin/demo.mjs calls this): import a folder, then show the
 * screen — in Electron when its binary is installed, otherwise in the browser through `serve`.
 * Prints the URL (or that the Electron window opened) and resolves once the screen is up; the
 * returned stop() shuts it down.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { serve } from './serve.js';
import { REPO_ROOT } from './renderer-build.js';

export interface DemoScreenOptions {
  dataDir: string;
  /** Imported once before the screen opens, and watched while it is open. */
  importDir?: string;
  port?: number;
  /** Skip Electron even where it is installed (e.g. on a headless machine). */
  browserOnly?: boolean;
  out?: (line: string) => void;
}

/** The Electron binary's path when `npm ci` downloaded it, else null. */
export function electronBinary(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const path = require('electron') as unknown;
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null; // the electron package throws when its binary was never downloaded
  }
}

export async function startDemoScreen(opts: DemoScreenOptions): Promise<{ url: string | null; stop(): Promise<void> }> {
  const out = opts.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const electron = opts.browserOnly ? null : electronBinary();
  const builtMain = join(REPO_ROOT, 'dist', 'main', 'electron', 'main.js');
  if (electron && existsSync(builtMain) && (process.env.DISPLAY || process.platform !== 'linux')) {
    const child: ChildProcess = spawn(electron, [REPO_ROOT], {
      stdio: 'inherit',
      env: {
        ...process.env,
        TRIAGE_DATA_DIR: opts.dataDir,
        ...(opts.importDir ? { TRIAGE_IMPORT_DIR: opts.importDir } : {}),
      },
    });
    out('the triage screen opened in its Electron window');
    return {
      url: null,
      stop: async () => {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          await new Promise((ok) => child.once('exit', ok));
        }
      },
    };
  }
  const running = await serve({ dataDir: opts.dataDir, port: opts.port ?? 0 });
  if (opts.importDir) {
    // One pass first (every file read, series settled), then keep watching for new arrivals.
    await running.core.importFolder(opts.importDir);
    running.startWatch(opts.importDir);
  }
  out(`triage screen: ${running.url}  (open it in a browser on this machine)`);
  return { url: running.url, stop: () => running.stop() };
}
