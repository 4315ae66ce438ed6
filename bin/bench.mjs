#!/usr/bin/env node
// `npm run bench`: the workstation benchmark (bench/run.ts), run through tsx like bin/triage.mjs so
// it always measures the current TypeScript sources with no build step.
import { register } from 'tsx/esm/api';

register();
const { runBench } = await import('../bench/run.ts');
process.exitCode = await runBench(process.argv.slice(2));
