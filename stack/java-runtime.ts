import { join } from 'node:path';
import { run } from './process-control.ts';
import { StackError } from './stack-errors.ts';

export interface JavaRuntime {
  executable: string;
  major: number;
}

/** Finds a Java 17+ runtime: JAVA_HOME first, then `java` on PATH. */
export async function findJava(): Promise<JavaRuntime> {
  const candidates = [process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : undefined, 'java'].filter((c): c is string => !!c);
  for (const executable of candidates) {
    const { code, output } = await run(executable, ['-version']);
    if (code !== 0) continue;
    const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
    if (!match) continue;
    const first = Number(match[1]);
    const major = first === 1 ? Number(match[2]) : first;
    if (major >= 17) return { executable, major };
    throw new StackError('PS_ERR_STACK_JAVA_MISSING', `Java ${major} found at ${executable}; the local stack needs Java 17 or newer (set JAVA_HOME)`);
  }
  throw new StackError('PS_ERR_STACK_JAVA_MISSING', 'No Java runtime found: install Java 17+ (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME');
}
