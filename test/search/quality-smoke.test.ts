/**
 * Smoke test of the LoCoMo quality bench (bench/quality.ts) on one real
 * conversation: it must run end to end through MCP and produce well-formed
 * recall numbers for every mode. No quality thresholds here (bench/RESULTS.md
 * tracks those).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA, type Mode, runQualityBench } from '../../bench/quality.js';

const MODES: Mode[] = ['text', 'vector', 'hybrid'];
/** The shared LoCoMo dev split: /work/shared/data next to this repository. */
const DATA = fileURLToPath(new URL('../../../shared/data/locomo-dev.jsonl', import.meta.url));

describe('quality bench smoke', () => {
  it('the default data path points at the shared dataset (when bench/quality.ts runs from source too)', () => {
    expect(existsSync(DATA), `${DATA} must exist`).toBe(true);
    expect(DEFAULT_DATA).toBe(DATA);
  });

  it('runs one LoCoMo conversation in every mode and reports recall in [0, 100]', { timeout: 180_000 }, async () => {
    expect(existsSync(DATA), `${DATA} must exist`).toBe(true);
    const lines: string[] = [];
    // `data` is passed explicitly so that this smoke test does not depend on DEFAULT_DATA (tested above).
    const report = await runQualityBench({ data: DATA, conversations: 1, modes: MODES, log: (l) => lines.push(l) });
    expect(report.conversations).toHaveLength(1);
    expect(lines.length).toBeGreaterThan(0);
    const inRange = (x: number) => {
      expect(Number.isFinite(x)).toBe(true);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(100);
    };
    expect(report.bm25.queries).toBeGreaterThan(0);
    for (const mode of MODES) {
      const r = report.modes[mode];
      expect(r.queries, mode).toBeGreaterThan(0);
      expect(r.queries, mode).toBe(report.bm25.queries);
      for (const k of [1, 5, 10] as const) {
        inRange(r.hit[k]);
        inRange(r.all[k]);
      }
      // Recall can only grow with k.
      expect(r.hit[1]).toBeLessThanOrEqual(r.hit[5]);
      expect(r.hit[5]).toBeLessThanOrEqual(r.hit[10]);
      expect(report.queryMs[mode]).toBeGreaterThan(0);
      const per = report.perConversation[report.conversations[0]!]![mode];
      expect(per.queries).toBe(r.queries);
    }
    expect(report.ingestMs).toBeGreaterThan(0);
  });
});
