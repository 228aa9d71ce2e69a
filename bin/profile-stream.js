#!/usr/bin/env node
// Runs the built CLI (dist/, built by `npm install` through the `prepare` script and again by
// `npm start`): the one-file bundle (dist/bundle/, fastest to start), else the compiled modules. A checkout
// without dist/ (sources edited, never built) falls back to the TypeScript sources through tsx, so the
// command still works, only slower to start and heavier in memory.
import { existsSync } from 'node:fs';

const bundled = new URL('../dist/bundle/profile-stream.js', import.meta.url);
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
if (existsSync(bundled)) {
  await import(bundled.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
