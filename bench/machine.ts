import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';

/** What a benchmark ran on, printed with every result. */
export function machine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model ?? 'unknown cpu'} × ${cpu.length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${arch()} ${release()}, node ${process.version}`;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memory_gib: number;
  os: string;
  node: string;
  /** Installed versions of the packages that decide the numbers. */
  packages: Record<string, string | null>;
}

/** The same, as data, with the versions of LanceDB, the MCP SDK and any `extra` packages actually installed. */
export function machineInfo(extra: string[] = []): MachineInfo {
  const cpu = cpus();
  const packages: Record<string, string | null> = {};
  for (const name of ['@lancedb/lancedb', '@modelcontextprotocol/sdk', ...extra]) packages[name] = installedVersion(name);
  return {
    cpu: cpu[0]?.model ?? 'unknown cpu',
    cores: cpu.length,
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${arch()} ${release()}`,
    node: process.version,
    packages,
  };
}

/** The version in a package's own package.json, found by walking up from its resolved entry (exports maps may hide package.json). */
function installedVersion(name: string): string | null {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(require.resolve(`${name}/package.json`));
  } catch {
    try {
      dir = dirname(require.resolve(name));
    } catch {
      return null;
    }
  }
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) return pkg.version ?? null;
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}
