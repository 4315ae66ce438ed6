/**
 * Entries in an import folder that are not slice files: a named pipe (which a blocking open would
 * wait on forever), symbolic links inside, outside, looping and to a directory, and a 1 GB sparse
 * file. One rule for `import` and `watch`: each is refused with its reason, once, and never stops
 * the ingest of the real slices beside it; nothing is read whole before its size is known.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, openSync, closeSync, ftruncateSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose } from '../../../src/main/core.js';
import { phantomSlices, tempDir } from '../../helpers.js';

const dir = tempDir('triage-hostile-');
afterAll(() => dir.cleanup());
let slices: string[] = [];

/** A folder with two real slices and every kind of hostile entry. */
function hostileFolder(name: string): string {
  const folder = join(dir.path, name);
  mkdirSync(join(folder, 'sub'), { recursive: true });
  copyFileSync(slices[0]!, join(folder, 'a.dcm'));
  copyFileSync(slices[1]!, join(folder, 'sub', 'b.dcm'));
  execFileSync('mkfifo', [join(folder, 'pipe.dcm')]);
  symlinkSync(join(folder, 'sub', 'b.dcm'), join(folder, 'link-inside.dcm'));
  symlinkSync(slices[2]!, join(folder, 'link-outside.dcm'));
  symlinkSync(join(folder, 'loop-b'), join(folder, 'loop-a'));
  symlinkSync(join(folder, 'loop-a'), join(folder, 'loop-b'));
  symlinkSync(folder, join(folder, 'sub', 'up'));
  return folder;
}

const EXPECTED_REFUSALS: [string, RegExp][] = [
  ['pipe.dcm', /named pipe \(FIFO\): not a regular file, skipped without opening it/],
  ['link-outside.dcm', /symbolic link to .*, outside the folder: not followed/],
  ['loop-a', /symbolic link loop/],
  ['loop-b', /symbolic link loop/],
  ['up', /symbolic link to a directory: not followed/],
];

function checkRefusals(reasons: Map<string, string>): void {
  for (const [name, re] of EXPECTED_REFUSALS) expect(reasons.get(name), name).toMatch(re);
  expect(reasons.size).toBe(EXPECTED_REFUSALS.length);
}

describe('hostile entries in the import folder', () => {
  beforeAll(() => {
    slices = phantomSlices(join(dir.path, 'ph'), 71, 4);
  });

  it('import: refuses each with its reason, stores the slices, follows the link inside', async () => {
    const folder = hostileFolder('imp');
    const core = compose({ dataDir: join(dir.path, 'data-imp'), settleMs: 0 });
    try {
      const outcomes = await core.importFolder(folder);
      const reasons = new Map(outcomes.filter((o) => o.outcome === 'quarantined').map((o) => [o.path.split('/').pop()!, o.reason!]));
      checkRefusals(reasons);
      expect(core.store.counts().instances).toBe(2);
      expect(outcomes.filter((o) => o.outcome === 'stored')).toHaveLength(2);
      expect(outcomes.filter((o) => o.outcome === 'duplicate')).toHaveLength(1); // the inside link: b.dcm again
      // a second import lists each refusal once, not once per scan
      await core.importFolder(folder);
      expect(core.quarantine().filter((q) => q.path.endsWith('pipe.dcm'))).toHaveLength(1);
    } finally {
      await core.stop();
    }
  }, 60_000);

  it('watch: the same refusals, the slices arrive, and stop() is not held up by the FIFO', async () => {
    const folder = hostileFolder('watch');
    const core = compose({ dataDir: join(dir.path, 'data-watch'), settleMs: 200, stableMs: 200 });
    core.watch(folder);
    const deadline = Date.now() + 30_000;
    while ((core.store.counts().instances! < 2 || core.quarantine().length < EXPECTED_REFUSALS.length) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const t0 = Date.now();
    await core.stop();
    expect(Date.now() - t0).toBeLessThan(5_000);
    const reopened = compose({ dataDir: join(dir.path, 'data-watch') });
    try {
      expect(reopened.store.counts().instances).toBe(2);
      checkRefusals(new Map(reopened.quarantine().map((q) => [q.path.split('/').pop()!, q.reason])));
    } finally {
      await reopened.stop();
    }
  }, 60_000);

  it('a 1 GB sparse file is refused by its size without being read', async () => {
    const folder = join(dir.path, 'big');
    mkdirSync(folder);
    const fd = openSync(join(folder, 'huge.dcm'), 'w');
    ftruncateSync(fd, 1024 ** 3);
    closeSync(fd);
    const core = compose({ dataDir: join(dir.path, 'data-big'), settleMs: 0 });
    try {
      const before = process.resourceUsage().maxRSS;
      const [outcome] = await core.importFolder(folder);
      const grewKb = process.resourceUsage().maxRSS - before;
      expect(outcome!.reason).toMatch(/file of 1073741824 bytes is too large for one CT slice/);
      expect(grewKb).toBeLessThan(200 * 1024);
    } finally {
      await core.stop();
    }
  });
});
