import { open, readFile, rm, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StreamsError } from '../errors.ts';

/** Directories locked by this process: the pid check alone cannot tell two apps in one process apart. */
const heldHere = new Set<string>();

export interface StateDirLock {
  readonly dir: string;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `<dir>/.lock` (holding our pid). A lock whose pid is alive (or held by this very process) is
 * refused with PS_ERR_STATE_DIR_LOCKED; a lock left by a dead process (SIGKILL) is taken over.
 */
export async function lockStateDir(dir: string): Promise<StateDirLock> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, '.lock');
  const refuse = (pid: number | string): never => {
    throw new StreamsError('PS_ERR_STATE_DIR_LOCKED', `state directory ${dir} is locked by running process ${pid} (${file}); use another stateDir or stop that instance`);
  };
  if (heldHere.has(dir)) refuse(process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      heldHere.add(dir);
      return {
        dir,
        release: async () => {
          heldHere.delete(dir);
          await rm(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) refuse(pid);
      await rm(file, { force: true }); // stale: its process is gone
    }
  }
  return refuse('unknown');
}
