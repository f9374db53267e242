import cliProgress from 'cli-progress';

/**
 * A progress display for long runs: a live bar on an interactive terminal,
 * otherwise an occasional plain line (so logs and CI output stay readable).
 * Always on stderr: stdout is for results.
 */
export interface Progress {
  update(done: number, extra?: Record<string, string | number>): void;
  stop(): void;
}

export function createProgress(
  label: string,
  total: number,
  options: { enabled?: boolean; fields?: string; initial?: Record<string, string | number> } = {},
): Progress {
  const enabled = options.enabled ?? true;
  if (!enabled || total <= 0) return { update: () => undefined, stop: () => undefined };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} | {percentage}% | eta {eta_formatted}${options.fields ? ` | ${options.fields}` : ''}`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    // Fields named in the format must have a value from the first frame on, or the bar shows "{name}".
    const blanks = Object.fromEntries([...(options.fields ?? '').matchAll(/\{(\w+)\}/g)].map((m) => [m[1], '']));
    bar.start(total, 0, { ...blanks, ...options.initial });
    return {
      update: (done, extra) => bar.update(done, extra),
      stop: () => bar.stop(),
    };
  }
  let lastPrinted = -1;
  return {
    update: (done) => {
      // Roughly every 10 %, and the end.
      const step = Math.max(1, Math.floor(total / 10));
      if (done === total || Math.floor(done / step) !== Math.floor(lastPrinted / step)) {
        process.stderr.write(`${label}: ${done}/${total}\n`);
        lastPrinted = done;
      }
    },
    stop: () => undefined,
  };
}
