/**
 * The lint rules that hold the house's shape fail on what they forbid: an import cycle planted in
 * src (two files importing each other), the layer rule (main importing the renderer), a deep
 * import into another stage's files (past its index.ts), and SQL outside the store (SQLite or the
 * store's database handle imported elsewhere in main).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers.js';

const planted: string[] = [];
function plant(rel: string, text: string): string {
  const path = join(REPO_ROOT, rel);
  writeFileSync(path, text);
  planted.push(path);
  return path;
}
afterAll(() => {
  for (const p of planted) rmSync(p, { force: true });
});

describe('lint', () => {
  it('fails on an import cycle', async () => {
    const a = plant('src/main/zz-planted-cycle-a.ts', "import { b } from './zz-planted-cycle-b.js';\nexport const a = (): number => b() + 1;\n");
    plant('src/main/zz-planted-cycle-b.ts', "import { a } from './zz-planted-cycle-a.js';\nexport const b = (): number => (a ? 1 : 0);\n");
    const [result] = await new ESLint({ cwd: REPO_ROOT }).lintFiles([a]);
    expect(result!.messages.map((m) => m.ruleId)).toContain('import-x/no-cycle');
  }, 60_000);

  it("fails on a deep import into another stage, and passes the same import through the stage's index", async () => {
    const deep = plant('src/main/api/zz-planted-deep.ts', "import { readHuFile } from '../store/hu-files.js';\nexport const r = readHuFile;\n");
    const [bad] = await new ESLint({ cwd: REPO_ROOT }).lintFiles([deep]);
    expect(bad!.messages.some((m) => m.ruleId === 'import-x/no-restricted-paths' && /through its index\.ts/.test(m.message))).toBe(true);
    const face = plant('src/main/api/zz-planted-face.ts', "import { readHuFile } from '../store/index.js';\nexport const r = readHuFile;\n");
    const [good] = await new ESLint({ cwd: REPO_ROOT }).lintFiles([face]);
    expect(good!.messages.filter((m) => m.ruleId === 'import-x/no-restricted-paths')).toEqual([]);
  }, 60_000);

  it('fails when main outside the store imports SQLite or the database handle, and passes the Store', async () => {
    const sql = plant(
      'src/main/api/zz-planted-sql.ts',
      "import Database from 'better-sqlite3';\nimport { openDatabase, type Db } from '../store/index.js';\nexport const d = [Database, openDatabase];\nexport type H = Db;\n",
    );
    const [bad] = await new ESLint({ cwd: REPO_ROOT }).lintFiles([sql]);
    const sqlMessages = bad!.messages.filter((m) => m.ruleId === 'no-restricted-imports' && /Only src\/main\/store/.test(m.message));
    expect(sqlMessages).toHaveLength(3);
    const store = plant('src/main/api/zz-planted-store.ts', "import { Store } from '../store/index.js';\nexport const open = Store.open;\n");
    const [good] = await new ESLint({ cwd: REPO_ROOT }).lintFiles([store]);
    expect(good!.messages.filter((m) => m.ruleId === 'no-restricted-imports')).toEqual([]);
  }, 60_000);

  it('fails when main imports the renderer', async () => {
    const f = plant('src/main/zz-planted-layer.ts', "import { App } from '../renderer/App.js';\nexport const x = App;\n");
    const [result] = await new ESLint({ cwd: REPO_ROOT }).lintFiles([f]);
    expect(result!.messages.some((m) => m.ruleId === 'no-restricted-imports' && /main never imports the renderer/.test(m.message))).toBe(true);
  }, 60_000);
});
