/**
 * The installer's Electron fuses (electron-builder.yml): the packaged app is not a Node runtime
 * for whoever starts it (ELECTRON_RUN_AS_NODE, NODE_OPTIONS, --inspect), loads only app.asar,
 * and checks its integrity where Electron can. The binary cannot be built here; the configuration
 * that electron-builder applies at package time can be checked.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers.js';

it('electron-builder flips the fuses that turn the app into a general runtime', () => {
  const yml = readFileSync(join(REPO_ROOT, 'electron-builder.yml'), 'utf8');
  const block = /^electronFuses:\n((?: {2}.+\n)+)/m.exec(yml)?.[1] ?? '';
  const fuses = Object.fromEntries(block.trim().split('\n').map((l) => l.trim().split(/:\s*/) as [string, string]));
  expect(fuses).toMatchObject({
    runAsNode: 'false',
    enableNodeOptionsEnvironmentVariable: 'false',
    enableNodeCliInspectArguments: 'false',
    enableEmbeddedAsarIntegrityValidation: 'true',
    onlyLoadAppFromAsar: 'true',
  });
});
