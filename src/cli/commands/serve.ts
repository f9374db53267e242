import { hostname } from 'node:os';
import type { CommandModule } from 'yargs';
import { adaptOptions, buildAdapter, type AdaptArgs } from '../adapt-options.js';
import { imageChoice, imageOptions, type ImageArgs } from '../image-options.js';
import { runtimeChoice, runtimeOptions, type RuntimeArgs } from '../runtime-options.js';
import { SEGMENTER_NAMES } from '../../segmenters/registry.js';
import { SamstarError } from '../../util/errors.js';

interface ServeArgs extends RuntimeArgs, ImageArgs, AdaptArgs {
  policy?: string;
  knobs?: string;
  segmenter?: string;
  encoder?: string;
  decoder?: string;
  host: string;
  port: number;
  queue: number;
  'stream-buffer': number;
  'max-body-mb': number;
  'max-pixels': number;
  'max-streams': number;
  'client-connections': number;
  'client-queue': number;
  token?: string;
  'allow-host'?: string[];
  'allow-origin'?: string[];
  'cache-mb'?: number;
}

/** `samstar serve`: the live segmentation service (HTTP + WebSocket API, browser viewer at /). */
export const command: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'live segmentation service: POST /v1/segment, WebSocket /v1/stream, viewer at /, /v1/health, /v1/policy, /metrics',
  builder: (y) =>
    adaptOptions(imageOptions(runtimeOptions(y)))
      .option('policy', { type: 'string', describe: 'policy folder (samstar train writes OUT/policy/) choosing the knobs per frame' })
      .option('knobs', { type: 'string', describe: 'fixed knob values: a JSON/YAML file or inline JSON (instead of --policy)' })
      .option('segmenter', { type: 'string', choices: SEGMENTER_NAMES, describe: "SAM-style automatic mask generator on ONNX, or the LoG blob segmenter; default sam (with --policy: the policy's)" })
      .option('encoder', { type: 'string', describe: 'SAM / MobileSAM encoder ONNX (default: the bundled samstar-learned model, not SAM; SAMSTAR_MODEL=reference picks the hand-written one)' })
      .option('decoder', { type: 'string', describe: 'SAM / MobileSAM decoder ONNX (with --encoder)' })
      // After adaptOptions: serve's --reward also puts its terms into every answer.
      .option('reward', { type: 'string', describe: "reward config (YAML): its total and terms go into every answer, and --adapt maximises it (default for --adapt: the policy's training reward)" })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to bind (loopback by default; anything else, e.g. 0.0.0.0, needs --token)' })
      .option('token', {
        type: 'string',
        describe: 'require this token on every route (Authorization: Bearer TOKEN or ?token=TOKEN); "auto" generates one and prints the viewer URL with it. Default: $SAMSTAR_TOKEN',
      })
      .option('allow-host', { type: 'string', array: true, describe: 'also answer requests for this Host name (e.g. the name a reverse proxy is reached by); repeatable' })
      .option('allow-origin', { type: 'string', array: true, describe: 'also let web pages of this origin (e.g. https://lab.example) open the WebSockets and POST; repeatable' })
      .option('port', { type: 'number', default: 8080, describe: 'port (0: any free port)' })
      .option('cache-mb', { type: 'number', describe: 'SAM stage-cache budget, MiB (default 160; frames of a live stream rarely come back)' })
      .option('queue', { type: 'number', default: 4, describe: 'requests that may wait while one is segmented; more get 503 + Retry-After' })
      .option('stream-buffer', { type: 'number', default: 1, describe: 'unprocessed frames kept per stream; older ones are dropped (latest frame wins)' })
      .option('max-body-mb', { type: 'number', default: 64, describe: 'largest request body / stream message, MiB' })
      .option('max-pixels', { type: 'number', default: 4096 * 4096, describe: 'largest frame, width × height' })
      .option('max-streams', { type: 'number', default: 16, describe: 'open /v1/stream connections at most' })
      .option('client-connections', { type: 'number', default: 8, describe: 'open WebSockets (streams + viewers) per client address' })
      .option('client-queue', { type: 'number', default: 2, describe: 'requests per client address that may wait; more get 503 CLIENT_LIMIT + Retry-After' })
      .conflicts('policy', 'knobs')
      .example('$0 serve --knobs \'{"points_per_side": 16}\'', 'serve the bundled model on http://127.0.0.1:8080')
      .example('$0 serve --policy out/train/policy --reward configs/rewards/nanoparticles.yaml', 'a trained policy, with reward terms in every answer')
      .example('$0 serve --host 0.0.0.0 --token auto', 'on the network: a generated token, printed with the viewer URL') as never,
  handler: async (args) => {
    // Heavy modules load only when this command runs: the CLI starts fast for every other command.
    const { startServer } = await import('../../serve/server.js');
    const { generateToken, isLoopback, makeGuard } = await import('../../serve/guard.js');
    const { loadKnobChooser, policySegmenter, PolicyKnobChooser } = await import('../../serve/knob-chooser.js');
    const { loadServeSegmenter, SERVE_CACHE_MB } = await import('../../serve/segmenter.js');
    const { SamSegmenter } = await import('../../segmenters/sam/segmenter.js');
    const { compileReward, loadRewardConfig } = await import('../../../rewards/index.js');

    for (const [name, value, min] of [['port', args.port, 0], ['queue', args.queue, 0], ['stream-buffer', args['stream-buffer'], 1], ['max-streams', args['max-streams'], 1], ['client-connections', args['client-connections'], 1], ['client-queue', args['client-queue'], 1]] as const) {
      if (!Number.isInteger(value) || value < min) throw new SamstarError('ARGUMENT_INVALID', `--${name} must be an integer ≥ ${min}, got ${value}`);
    }
    if (!(args['max-body-mb'] > 0) || !(args['max-pixels'] >= 1) || (args['cache-mb'] !== undefined && !(args['cache-mb'] > 0))) {
      throw new SamstarError('ARGUMENT_INVALID', '--max-body-mb, --max-pixels and --cache-mb must be positive');
    }
    // Everything that can fail on the user's input fails before the model loads.
    const tokenArg = args.token ?? (process.env.SAMSTAR_TOKEN || undefined);
    const generated = tokenArg === 'auto';
    const token = generated ? generateToken() : (tokenArg ?? null);
    const guarded = { host: args.host, token, allowHosts: args['allow-host'] ?? [], allowOrigins: args['allow-origin'] ?? [] };
    makeGuard(guarded); // refuses a non-loopback bind without a token, a short token, a bad --allow-host/--allow-origin
    const reward = args.reward ? compileReward(await loadRewardConfig(args.reward)) : null;
    const { segmenterKnobSpace } = await import('../../segmenters/registry.js');
    const segmenterName = args.segmenter ?? (args.policy ? await policySegmenter(args.policy) : 'sam');
    const chooser = await loadKnobChooser({ knobs: args.knobs, policy: args.policy }, segmenterName, segmenterKnobSpace(segmenterName));
    const segmenter = await loadServeSegmenter(segmenterName, { encoder: args.encoder, decoder: args.decoder, ...runtimeChoice(args) }, args['cache-mb'] ?? SERVE_CACHE_MB);
    let handle;
    try {
      // The chooser's policy (loaded and checked once) gives --adapt its knobs, bounds and default reward.
      const adapter = await buildAdapter(args, { segmenter, policy: chooser instanceof PolicyKnobChooser ? chooser.policy : undefined, reward: reward ?? undefined });
      handle = await startServer({
        segmenter,
        chooser,
        reward,
        adapter: adapter ?? null,
        port: args.port,
        maxBodyBytes: Math.round(args['max-body-mb'] * 2 ** 20),
        maxPixels: args['max-pixels'],
        ...imageChoice(args),
        requestQueue: args.queue,
        streamBuffer: args['stream-buffer'],
        maxStreams: args['max-streams'],
        clientConnections: args['client-connections'],
        clientQueue: args['client-queue'],
        ...guarded,
        model: segmenter instanceof SamSegmenter ? segmenter.describeModel() : null,
        disposeSegmenter: true,
        onError: (error, where) => process.stderr.write(`samstar serve: internal error in ${where}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`),
      });
    } catch (error) {
      await segmenter.dispose();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        throw new SamstarError('ARGUMENT_INVALID', `cannot listen on ${args.host}:${args.port} (${code})`, {
          hint: code === 'EADDRINUSE' ? 'another process uses that port: pick another with --port (0 = any free port)' : 'check --host and --port',
        });
      }
      throw error;
    }
    const server = handle;
    process.stdout.write(`samstar serve: ${segmenter.name} segmenter, knobs from ${describeChooser(server)}\n`);
    process.stdout.write(`samstar serve: listening on ${server.url}  (viewer ${server.url}/ · POST /v1/segment · WebSocket /v1/stream · /v1/health · /metrics)\n`);
    if (token) {
      // As Jupyter does: a generated token is printed in the URL to open; a given one is not repeated.
      const wildcard = ['0.0.0.0', '::', '[::]'].includes(args.host);
      const bases = wildcard ? [`http://${hostname()}:${server.port}`, `http://127.0.0.1:${server.port}`] : [server.url];
      const query = generated ? `?token=${encodeURIComponent(token)}` : '?token=YOUR_TOKEN';
      process.stdout.write(`samstar serve: token required (Authorization: Bearer TOKEN, or ?token=TOKEN); open the viewer at\n${bases.map((b) => `    ${b}/${query}\n`).join('')}`);
    }
    if (!isLoopback(args.host)) {
      process.stderr.write(`samstar serve: note: bound to ${args.host}, reachable from the network; traffic is plain HTTP (token included): put a TLS reverse proxy in front (README)\n`);
    }
    // Graceful shutdown on Ctrl-C / SIGTERM: the frame being segmented is answered, queued ones get 503.
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) {
          process.stderr.write('samstar serve: second signal, exiting now\n');
          process.exit(130);
        }
        stopping = true;
        process.stderr.write(`samstar serve: ${signal}, shutting down…\n`);
        void server.close().then(resolve, (error: unknown) => {
          process.stderr.write(`samstar serve: error while closing: ${String(error)}\n`);
          resolve();
        });
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    const m = server.service.metrics;
    const p50 = m.latency.quantile(0.5);
    process.stdout.write(
      `samstar serve: stopped after ${m.framesTotal} frames (${m.frames.request.ok + m.frames.stream.ok} ok, ${m.frames.request.error + m.frames.stream.error} failed, ${m.dropped} dropped, ${m.rejected} refused)` +
        (Number.isFinite(p50) ? `, latency p50 ${p50.toFixed(0)} ms p99 ${m.latency.quantile(0.99).toFixed(0)} ms` : '') +
        '\n',
    );
  },
};

function describeChooser(server: { service: { ctx: { chooser: { describe(): object } } } }): string {
  const d = server.service.ctx.chooser.describe() as { kind?: string; source?: string; id?: string; policy_kind?: string };
  return d.kind === 'policy' ? `policy ${d.id} (${d.policy_kind}, ${d.source})` : String(d.source ?? d.kind);
}
