import { spawn, execFile } from 'node:child_process';
import { openSync, closeSync, readFileSync, writeFileSync, rmSync, readdirSync, existsSync } from 'node:fs';
import { connect } from 'node:net';

/** Runs a command to completion; resolves with its exit code and combined output. */
export function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 127) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/**
 * Starts a long-running process detached from ours, output appended to `logFile`, pid written to `pidFile`,
 * so the stack outlives `npm start` and a second start can find and reuse it.
 */
export function spawnDetached(cmd: string, args: string[], logFile: string, pidFile: string, cwd: string): number {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(cmd, args, { cwd, detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
    child.unref();
    writeFileSync(pidFile, String(child.pid));
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0); it is not running.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return true;
  }
}

/** Pids of running processes whose command line mentions `marker` (our cache directory): found even without a pid file. */
export function processesMentioning(marker: string): number[] {
  const pids: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes('java') && cmdline.includes(marker) && isAlive(pid)) pids.push(pid);
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

export async function stopProcess(pid: number, graceMs: number): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(200);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  while (isAlive(pid)) await sleep(100);
}

/** The last `lines` lines of a text file, or '' when it can't be read. */
export function tailOf(file: string, lines = 12): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export function removeFile(path: string): void {
  rmSync(path, { force: true });
}

export function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true; fails fast when `stillRunning` says the process died. */
export async function waitUntil(check: () => Promise<boolean>, options: { timeoutMs: number; stillRunning?: () => boolean }): Promise<'ready' | 'died' | 'timeout'> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return 'ready';
    if (options.stillRunning && !options.stillRunning()) return 'died';
    await sleep(300);
  }
  return 'timeout';
}
