/**
 * Smoke test of the quality bench (bench/quality.ts): it must run end to end
 * through MCP and produce well-formed recall numbers for every mode. It runs
 * on a small conversation written for this repository (test/fixtures), so a
 * fresh clone needs nothing beside it; the LoCoMo data the bench measures
 * with stays outside the repository. No quality thresholds here
 * (bench/RESULTS.md tracks those).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA, type Mode, loadConversations, runQualityBench } from '../../bench/quality.js';

const MODES: Mode[] = ['text', 'vector', 'hybrid'];
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = join(ROOT, 'test', 'fixtures', 'smoke-conversation.jsonl');

describe('quality bench smoke', () => {
  it('the bench reads LoCoMo from ../shared/data beside the repository by default', () => {
    expect(DEFAULT_DATA).toBe(join(ROOT, '..', 'shared', 'data', 'locomo-dev.jsonl'));
  });

  it('the fixture is a well-formed conversation: every evidence id names one of its turns', () => {
    const [conv, ...rest] = loadConversations(FIXTURE);
    expect(rest).toEqual([]);
    expect(new Set(conv!.turns.map((t) => t.speaker)).size).toBe(2);
    expect(conv!.turns.length).toBeGreaterThanOrEqual(60);
    expect(conv!.queries.length).toBeGreaterThanOrEqual(20);
    const ids = new Set(conv!.turns.map((t) => t.id));
    expect(ids.size).toBe(conv!.turns.length);
    for (const q of conv!.queries) {
      expect(q.evidence.length, q.qid).toBeGreaterThan(0);
      for (const e of q.evidence) expect(ids.has(e), `${q.qid}: ${e}`).toBe(true);
    }
  });

  it('runs the fixture conversation in every mode and reports recall in [0, 100]', { timeout: 180_000 }, async () => {
    const lines: string[] = [];
    const report = await runQualityBench({ data: FIXTURE, conversations: 1, modes: MODES, log: (l) => lines.push(l) });
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
      const per = report.perConversation[report.conversations[0]!]![mode];
      expect(per.queries).toBe(r.queries);
    }
    expect(report.bm25.queries).toBe(22);
    // The bench really retrieved: in text mode most questions find an evidence turn in the top 10.
    expect(report.modes.text.hit[10]).toBeGreaterThan(50);
  });
});
