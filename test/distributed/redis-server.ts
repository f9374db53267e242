import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * A throw-away redis-server on a free loopback port, without persistence, for
 * tests and benchmarks. `available()` says whether Debian's redis-server is
 * installed (.ci/run installs it; tests skip with a message without it).
 */
export function redisServerPath(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path ? path : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class RedisServer {
  private child?: ChildProcess;

  private constructor(
    private readonly binary: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<RedisServer> {
    const binary = redisServerPath();
    if (!binary) throw new Error('redis-server is not installed');
    const server = new RedisServer(binary, await freePort());
    // Never outlive the process that started it (a test whose clean-up timed out included).
    process.once('exit', () => server.kill());
    await server.restart();
    return server;
  }

  /** (Re)start on the same port, empty; resolves once it accepts connections. */
  async restart(): Promise<void> {
    const child = spawn(this.binary, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${text}`)), 10_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}): ${text}`));
      });
    });
    child.stdout!.resume();
  }

  /** Kill it at once (SIGKILL, sent now: the connections drop as if the machine went away); stop() waits for the end. */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  /** Stop it (SIGTERM) and wait for the process to end. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}
