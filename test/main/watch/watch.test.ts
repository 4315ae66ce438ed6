/**
 * The watch stage on its own (no core): a file is handed on once it has stopped growing, files
 * already in the folder count, copy tools' temp names never do, a rewritten file is handed on
 * again, and the folder rule refuses what must not be opened, with its reason.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isIgnoredName, listFiles, StabilityGate, validateImportFolder, watchFolder } from '../../../src/main/watch/index.js';
import { tempDir } from '../../helpers.js';

const dir = tempDir();
afterAll(() => dir.cleanup());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await sleep(20);
}

describe('the stability gate', () => {
  it('hands a growing file on only after its size has held still, and once', async () => {
    const path = join(dir.path, 'growing.dcm');
    writeFileSync(path, Buffer.alloc(100));
    const stable: { path: string; at: number }[] = [];
    // a wait far above the gaps between writes, so a slow machine cannot make a gap look like the end
    const gate = new StabilityGate(1000, (p) => stable.push({ path: p, at: Date.now() }));
    const start = Date.now();
    gate.touch(path);
    for (let i = 0; i < 4; i++) {
      await sleep(100); // a copy still writing: each write restarts the wait
      appendFileSync(path, Buffer.alloc(100));
      gate.touch(path);
    }
    const lastWrite = Date.now();
    await until(() => stable.length > 0);
    await sleep(1200);
    gate.close();
    expect(stable.map((s) => s.path)).toEqual([path]);
    expect(stable[0]!.at - lastWrite).toBeGreaterThanOrEqual(950);
    expect(stable[0]!.at - start).toBeGreaterThanOrEqual(1350);
  });
});

describe('watching a folder', () => {
  it('reports files already there and new ones, skips temp names, reports a rewritten file again', async () => {
    const folder = join(dir.path, 'inbox');
    mkdirSync(join(folder, 'sub'), { recursive: true });
    writeFileSync(join(folder, 'before.dcm'), 'a');
    const seen: string[] = [];
    const w = watchFolder(folder, (p) => seen.push(p), { stableMs: 150 });
    await w.ready;
    writeFileSync(join(folder, 'sub', 'after.dcm'), 'b');
    writeFileSync(join(folder, 'copying.dcm.part'), 'c');
    writeFileSync(join(folder, '.hidden'), 'd');
    await until(() => seen.length >= 2);
    await sleep(300);
    expect([...seen].sort()).toEqual([join(folder, 'before.dcm'), join(folder, 'sub', 'after.dcm')]);
    appendFileSync(join(folder, 'before.dcm'), 'more');
    await until(() => seen.length >= 3);
    expect(seen[2]).toBe(join(folder, 'before.dcm'));
    await w.close();
  });

  it('refuses a dangling link and a link out of the folder with their reasons, never opening them', async () => {
    const folder = join(dir.path, 'links');
    mkdirSync(folder);
    writeFileSync(join(dir.path, 'outside.dcm'), 'x');
    symlinkSync(join(folder, 'missing.dcm'), join(folder, 'dangling.dcm'));
    symlinkSync(join(dir.path, 'outside.dcm'), join(folder, 'escape.dcm'));
    const refused = new Map<string, string>();
    const w = watchFolder(folder, () => {}, { stableMs: 100, onRefused: (p, r) => refused.set(p, r) });
    await w.ready;
    await until(() => refused.size >= 2);
    await w.close();
    expect(refused.get(join(folder, 'dangling.dcm'))).toMatch(/dangling/);
    expect(refused.get(join(folder, 'escape.dcm'))).toMatch(/outside the folder/);
  });
});

describe('listing a folder for an import', () => {
  it('walks in a stable order and refuses a named pipe without blocking on it', async () => {
    const folder = join(dir.path, 'list');
    mkdirSync(join(folder, 'b'), { recursive: true });
    for (const name of ['c.dcm', 'a.dcm', 'b/z.dcm', 'skip.tmp']) writeFileSync(join(folder, name), name);
    execFileSync('mkfifo', [join(folder, 'pipe')]);
    const { files, refused } = await listFiles(folder);
    expect(files).toEqual(['a.dcm', 'b/z.dcm', 'c.dcm'].map((f) => join(folder, f)));
    expect(refused).toEqual([{ path: join(folder, 'pipe'), reason: expect.stringMatching(/named pipe.*without opening/) }]);
  });

  it('ignores hidden files and the temp files of copy tools', () => {
    for (const name of ['.DS_Store', 'x.tmp', 'x.part', 'x~']) expect(isIgnoredName(name)).toBe(true);
    expect(isIgnoredName('IM000001')).toBe(false);
  });
});

describe('choosing an import folder', () => {
  it('refuses a missing folder, a file, the root, a system folder and the data folder, each with its reason', () => {
    const data = join(dir.path, 'data');
    mkdirSync(join(data, 'inside'), { recursive: true });
    writeFileSync(join(dir.path, 'a-file'), '');
    expect(() => validateImportFolder(join(dir.path, 'nope'), data)).toThrow(/does not exist/);
    expect(() => validateImportFolder(join(dir.path, 'a-file'), data)).toThrow(/not a directory/);
    expect(() => validateImportFolder('/', data)).toThrow(/root of a file system/);
    expect(() => validateImportFolder('/etc', data)).toThrow(/system folder/);
    expect(() => validateImportFolder(join(data, 'inside'), data)).toThrow(/inside the data folder/);
    expect(validateImportFolder(join(dir.path, 'list', '..', 'links'), data)).toMatch(/links$/);
  });
});
