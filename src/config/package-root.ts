import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory holding profile-stream's package.json. Found by walking up from this module, because
 * the same code runs from `src/` (tests, tsx) and from `dist/src/` (`npm start`, compiled): a path
 * relative to `import.meta.url` would point into `dist/` for assets (`ui/`, `schemas/`) that are not
 * compiled.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'ui'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`profile-stream's package root (package.json beside ui/) not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
