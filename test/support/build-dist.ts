import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * Builds dist/ once before the integration tests: `bin/profile-stream.js` (and so `npx profile-stream`)
 * and `npm start` run the compiled JavaScript, so without this a CLI test would run whatever an older
 * build left there, not the sources under test. Runs before any test file, so none reads a half-written file.
 */
export default async function setup(): Promise<void> {
  const tsc = resolve('node_modules/typescript/bin/tsc');
  const run = (args: string[]): Promise<void> =>
    new Promise<void>((done, fail) => {
      execFile(process.execPath, args, { timeout: 600_000 }, (error, stdout, stderr) =>
        error ? fail(new Error(`building dist/ failed (${args.join(' ')}):\n${stdout}${stderr}`)) : done(),
      );
    });
  // As `npm run build`: the compiled modules, then the one-file bundles `npm start` and the workers run.
  await run([tsc, '-p', 'tsconfig.build.json']);
  await run([resolve('scripts/bundle.mjs')]);
}
