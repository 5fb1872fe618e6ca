import cliProgress from 'cli-progress';

/**
 * A progress bar on stderr when stderr is a terminal (stdout may be a pipe
 * carrying data), otherwise nothing: logs and CI output stay clean.
 */
export function progressBar(label: string, opts: { unit?: 'MB' } = {}): { update(done: number, total: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const unit = opts.unit ? ` ${opts.unit}` : '';
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total}${unit} | eta {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      ...(opts.unit && { formatValue: (v: number, _o: unknown, type: string) => (type === 'value' || type === 'total' ? (v / 1e6).toFixed(1) : String(v)) }),
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, done);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
