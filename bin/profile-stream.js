#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so a fresh clone works without a build step;
// `npm run build` emits dist/ for deployments that prefer plain JavaScript.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
