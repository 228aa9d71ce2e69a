// Bundles the service and the benchmark workers into one file each (dist/bundle/): a process then loads one
// module instead of ~1,100 (Node resolves, reads and compiles each), which was most of a restart's time
// before it could rejoin its group (kill -9 + restart: 1.7 of 2.8 s at load 4, far more on a loaded machine).
// Packages that find files next to their own (a WebAssembly module, a native addon) stay outside the bundle.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const workers = readdirSync(join(root, 'bench', 'workers')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));

await build({
  absWorkingDir: root,
  entryPoints: {
    'profile-stream': 'src/cli/main.ts',
    // Started as a worker thread by src/app/adapters/threaded-live-feed.ts, from beside the module that starts it.
    'live-tail-thread': 'src/app/adapters/live-tail-thread.ts',
    ...Object.fromEntries(workers.map((f) => [f.replace(/\.ts$/, ''), `bench/workers/${f}`])),
  },
  outdir: 'dist/bundle',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: ['rocksdb-native', '@platformatic/wasm-utils', '@node-rs/*', 'koffi'],
  // CommonJS packages inside an ES module bundle still call require() for Node's own modules.
  banner: { js: "import { createRequire as __psCreateRequire } from 'node:module'; const require = __psCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
