import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './process-control.ts';
import { StackError } from './stack-errors.ts';
import { APICURIO_VERSION, type StackConfig, type StackPaths } from './stack-config.ts';

export type Progress = (line: string) => void;

async function mvn(args: string[], paths: StackPaths, what: string): Promise<void> {
  const probe = await run('mvn', ['-v']);
  if (probe.code !== 0) {
    throw new StackError('PS_ERR_STACK_MAVEN_MISSING', 'Maven (mvn) is needed once to fetch the local stack from Maven Central: install it (apt-get install maven)');
  }
  const { code, output } = await run('mvn', ['-B', '-q', ...args]);
  appendFileSync(paths.mavenLog, `$ mvn ${args.join(' ')}\n${output}\n`);
  if (code !== 0) {
    throw new StackError('PS_ERR_STACK_DOWNLOAD_FAILED', `Downloading ${what} from Maven Central failed (mvn exit ${code})`, { logFile: paths.mavenLog });
  }
}

/** Fetches Kafka's jars and Apicurio Registry into the cache, once; later calls find them there. */
export async function ensureArtifacts(config: StackConfig, paths: StackPaths, progress: Progress): Promise<void> {
  mkdirSync(config.cacheDir, { recursive: true });
  if (!existsSync(join(paths.kafkaLibs, '.complete'))) {
    progress(`fetching Kafka jars into ${paths.kafkaLibs} (first time only)`);
    const tmp = `${paths.kafkaLibs}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    await mvn(['-f', join(config.stackDir, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${tmp}`], paths, 'Kafka');
    appendFileSync(join(tmp, '.complete'), new Date().toISOString());
    rmSync(paths.kafkaLibs, { recursive: true, force: true });
    mkdirSync(join(paths.kafkaLibs, '..'), { recursive: true });
    renameSync(tmp, paths.kafkaLibs);
  }
  if (!existsSync(join(paths.apicurioHome, '.complete'))) {
    progress(`fetching Apicurio Registry ${APICURIO_VERSION} into ${paths.apicurioHome} (first time only)`);
    const tmp = `${paths.apicurioHome}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    await mvn(
      ['-f', join(config.stackDir, 'pom.xml'), 'dependency:copy', `-Dartifact=io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`, `-DoutputDirectory=${tmp}`],
      paths,
      'Apicurio Registry',
    );
    const archive = readdirSync(tmp).find((f) => f.endsWith('.tar.gz'));
    if (!archive) throw new StackError('PS_ERR_STACK_DOWNLOAD_FAILED', 'Apicurio Registry archive missing after download', { logFile: paths.mavenLog });
    const untar = await run('tar', ['xzf', join(tmp, archive), '-C', tmp]);
    if (untar.code !== 0) throw new StackError('PS_ERR_STACK_DOWNLOAD_FAILED', `Unpacking ${archive} failed: ${untar.output.trim()}`);
    rmSync(join(tmp, archive));
    appendFileSync(join(tmp, '.complete'), new Date().toISOString());
    rmSync(paths.apicurioHome, { recursive: true, force: true });
    renameSync(tmp, paths.apicurioHome);
  }
}

/** The registry's runnable jar: 3.0.x ships a runner jar, later versions quarkus-app/quarkus-run.jar. */
export function apicurioJar(paths: StackPaths): string {
  const runner = readdirSync(paths.apicurioHome).find((f) => f.endsWith('-runner.jar'));
  if (runner) return join(paths.apicurioHome, runner);
  const quarkus = join(paths.apicurioHome, 'quarkus-run.jar');
  if (existsSync(quarkus)) return quarkus;
  throw new StackError('PS_ERR_STACK_DOWNLOAD_FAILED', `No runnable jar in ${paths.apicurioHome}: delete that directory to fetch it again`);
}
