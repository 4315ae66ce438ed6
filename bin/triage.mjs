#!/usr/bin/env node
// The `triage` command. It runs the TypeScript core directly through tsx, so `npx triage …`
// works right after `npm ci` with no build step and can never run stale compiled code.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main/cli/index.ts');
process.exitCode = await main(process.argv);
