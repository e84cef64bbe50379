/**
 * Cold start in a fresh process: time to load the runtime's modules, then
 * createRuntime (open, migrate, prune, resume, ready) once. argv: dataDir apiDomain clockOffsetMs.
 */
import type * as RuntimeModule from '../../main/runtime';

const t0 = Number(process.hrtime.bigint()) / 1e6;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtime = require('../../main/runtime') as typeof RuntimeModule;
const t1 = Number(process.hrtime.bigint()) / 1e6;
const [dataDir, apiDomain, offset] = process.argv.slice(2);
const rt = runtime.createRuntime({ dataDir: dataDir!, apiDomain: apiDomain!, clock: { now: () => Date.now() + Number(offset) }, printer: 'none' });
const t2 = Number(process.hrtime.bigint()) / 1e6;
process.stdout.write(JSON.stringify({ requireMs: t1 - t0, readyMs: t2 - t1 }) + '\n');
void rt.close().then(() => process.exit(0));
