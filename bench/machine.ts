import { cpus, totalmem, platform, arch, release } from 'node:os';

/** What a benchmark ran on, printed with every result. */
export function machine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model ?? 'unknown cpu'} × ${cpu.length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${arch()} ${release()}, node ${process.version}`;
}
