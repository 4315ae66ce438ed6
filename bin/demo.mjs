#!/usr/bin/env node
// `npm run demo` (README): phantom studies land in an import folder, the core ranks them, the
// screen opens. The TypeScript runs directly through tsx, like bin/triage.mjs.
import { register } from 'tsx/esm/api';

register();
const { runDemo } = await import('../src/main/demo.ts');
process.exitCode = await runDemo(process.argv);
