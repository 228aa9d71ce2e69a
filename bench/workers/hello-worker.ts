/** The API benchmark's baseline: a fastify hello-world route in its own process. Prints {"event":"api","port":…}. */
import Fastify from 'fastify';

const port = Number(process.argv[2]);
const app = Fastify({ logger: false });
app.get('/hello', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port });
process.stdout.write(`${JSON.stringify({ event: 'api', port, t: Date.now() })}\n`);
// bench/api-path.ts asks for CPU time around a measurement (CPU per request, comparable on a busy machine).
process.on('message', () => process.send?.(process.cpuUsage()));
process.on('SIGTERM', () => void app.close().finally(() => process.exit(0)));
