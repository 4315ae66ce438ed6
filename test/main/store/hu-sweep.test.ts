/**
 * A process killed between writing an HU copy and renaming it leaves `<sha>.i16.<pid>.tmp`. The
 * next start removes such files once they are old enough that no live writer can own them.
 */
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { compose } from '../../../src/main/core.js';
import { tempDir } from '../../helpers.js';

const dir = tempDir('triage-husweep-');
afterAll(() => dir.cleanup());

it('sweeps stale HU temp files at start and leaves fresh ones and finished copies', async () => {
  const sub = join(dir.path, 'hu', 'ab');
  mkdirSync(sub, { recursive: true });
  const stale = join(sub, 'abcd.i16.4242.tmp');
  const fresh = join(sub, 'abce.i16.4243.tmp');
  const done = join(sub, 'abcf.i16');
  for (const f of [stale, fresh, done]) writeFileSync(f, Buffer.alloc(16));
  const old = new Date(Date.now() - 10 * 60_000);
  utimesSync(stale, old, old);
  utimesSync(done, old, old);
  const logs: string[] = [];
  const core = compose({ dataDir: dir.path, log: (m) => logs.push(m) });
  await core.stop();
  expect(existsSync(stale)).toBe(false);
  expect(existsSync(fresh)).toBe(true);
  expect(existsSync(done)).toBe(true);
  expect(logs.join('\n')).toMatch(/removed 1 unfinished HU temp file/);
});
