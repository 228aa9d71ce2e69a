import { randomUUID } from 'node:crypto';
import { readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

const FILE = '.group-instance-id';

/**
 * The static group member id (KIP-345) of the instance owning this state directory: created once,
 * then read back by every later start. A process that crashed and restarts with the same state dir
 * therefore rejoins as the same member and gets its tasks back at once, instead of the group waiting
 * for the dead member's session to expire. Two live processes never share it: the state dir is locked.
 */
export async function groupInstanceId(stateDir: string, applicationId: string): Promise<string> {
  const file = join(stateDir, FILE);
  const existing = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (/^\S+$/.test(existing)) return existing;
  const id = `${applicationId}-${randomUUID()}`;
  // Written whole or not at all: a crash mid-write must not leave a half id that a restart would reuse.
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, id);
  await rename(tmp, file);
  return id;
}
