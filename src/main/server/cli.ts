/**
 * `triage serve --data-dir <dir> --port <p> [--watch <folder>]`: the radiologist's screen in a
 * browser, served on 127.0.0.1 only. Registered by src/main/cli/index.ts.
 */
import { Command, InvalidArgumentError } from 'commander';
import { defaultDataDir } from '../core.js';
import { serve } from './serve.js';
import { startChoiceOf } from '../start-config.js';

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port is an integer 0–65535');
  return n;
}

export function registerServeCommand(program: Command): Command {
  return program
    .command('serve')
    .description('serve the worklist, viewer and review screen on http://127.0.0.1:<port>/ (loopback only)')
    .option('--port <p>', 'port on 127.0.0.1 (0 picks a free one)', parsePort, 8737)
    .option('--watch <folder>', 'also watch this import folder (default: the import folder set in Settings)')
    .option('--settle <seconds>', 'a series is ready when no slice arrived for this long', '10')
    .action(async (opts: { port: number; watch?: string; settle: string }, cmd: Command) => {
      const { dataDir, modelsDir, cuda } = cmd.optsWithGlobals<{ dataDir?: string; modelsDir?: string; cuda?: boolean }>();
      const log = (m: string) => process.stderr.write(`${m}\n`);
      const folder = dataDir ?? defaultDataDir();
      const start = startChoiceOf(cmd, folder);
      const running = await serve({
        dataDir: folder,
        database: start.database,
        sharedDir: start.sharedDir,
        databaseSource: start.source,
        port: opts.port,
        watch: opts.watch,
        watchStored: true,
        ...(modelsDir ? { modelsDir } : {}),
        ...(cuda === false ? { cuda: false } : {}),
        core: { settleMs: Number(opts.settle) * 1000 },
        log,
      });
      process.stdout.write(`${running.url}\n`);
      log(`serving the triage screen at ${running.url} (data folder ${running.core.dataDir}, database: ${running.core.database}); Ctrl-C to stop`);
      await new Promise<void>((done) => {
        process.once('SIGINT', () => done());
        process.once('SIGTERM', () => done());
      });
      log('stopping …');
      await running.stop();
    });
}
