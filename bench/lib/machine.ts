import { spawnSync } from 'node:child_process';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { KAFKA_VERSION } from '../../stack/stack-config.ts';

export interface MachineInfo {
  readonly cores: number;
  readonly cpu_model: string;
  readonly memory_gib: number;
  readonly free_memory_gib_at_start: number;
  /** 1-minute load average when the benchmark started: above `cores` means others were using the machine. */
  readonly load_average_at_start: number;
  readonly node: string;
  readonly java: string;
  readonly kafka: string;
  readonly platform: string;
}

export function machineInfo(): MachineInfo {
  // `java -version` prints to stderr.
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const java = r.error ? 'java not found' : (r.stderr || r.stdout).trim().split('\n')[0] ?? 'unknown';
  return {
    cores: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    free_memory_gib_at_start: Math.round((freemem() / 2 ** 30) * 10) / 10,
    load_average_at_start: Math.round(loadavg()[0]! * 100) / 100,
    node: process.version,
    java,
    kafka: KAFKA_VERSION,
    platform: `${process.platform} ${process.arch}`,
  };
}
