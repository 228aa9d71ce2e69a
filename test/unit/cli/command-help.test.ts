import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../src/cli/command-specs.ts';
import { ENVIRONMENT_VARIABLES } from '../../../src/config/environment-variables.ts';

/** The CLI from its sources, as a user runs it (a child process: main.ts exits the process). */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { timeout: 60_000, env: { ...process.env, KAFKA_BROKERS: '', SCHEMA_REGISTRY_URL: '' } }, (error, stdout, stderr) =>
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('profile-stream --help', () => {
  it('lists every command and every environment variable', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    for (const c of COMMANDS) expect(stdout).toContain(`  ${c.name} `);
    for (const v of ENVIRONMENT_VARIABLES) expect(stdout, v.name).toContain(v.name);
  });

  it.each(COMMANDS.map((c) => c.name))('%s --help prints its usage, every flag and its environment, exit 0', async (name) => {
    const spec = COMMANDS.find((c) => c.name === name)!;
    const { code, stdout, stderr } = await cli([name, '--help']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`usage: ${spec.synopsis}`);
    for (const f of spec.flags) expect(stdout, f.name).toContain(`--${f.name}`);
    for (const v of ENVIRONMENT_VARIABLES.filter((e) => e.usedBy.some((u) => spec.env.includes(u)))) expect(stdout, v.name).toContain(v.name);
  });

  it('an unknown flag is PS_ERR_CLI_USAGE (exit 2) with the command\'s usage', async () => {
    const { code, stderr } = await cli(['produce', '--bogus']);
    expect(code).toBe(2);
    expect(stderr).toContain('[PS_ERR_CLI_USAGE]');
    expect(stderr).toContain('usage: profile-stream produce');
  });
});
