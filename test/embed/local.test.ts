/**
 * The local embedder: deterministic, unit length, and bit for bit the
 * vectors of its plain specification (test/embed/local-reference.ts), so the
 * faster implementation changed no stored vector.
 */
import { describe, expect, it } from 'vitest';
import { LocalEmbedder } from '../../src/embed/local.js';
import { referenceEmbed } from './local-reference.js';

const WORDS = 'deploy deploys deployed deploying falcon postgres espresso peanuts allergy standup tuesday café naïve straße ünïcödé ramen ラーメン 東京 서울 🍣 sushi the and of to a running ran runner 2026 12 v1.2.3 e-mail O\'Brien'.split(' ');

function texts(n: number): string[] {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out = ['', ' ', 'the and of', 'word', 'word word word word', 'ＦＵＬＬ　ｗｉｄｔｈ', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 surrogate 🎉🎉 pairs'];
  for (let i = 0; i < n; i++) out.push(Array.from({ length: 1 + Math.floor(rand() * 30) }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(rand() < 0.5 ? ' ' : ', '));
  return out;
}

describe('local embedder', () => {
  it('produces exactly the reference vectors, at 768 and 384 dimensions', async () => {
    for (const dim of [768, 384]) {
      const e = new LocalEmbedder(dim);
      const all = texts(2_000);
      const got = await e.embed(all);
      all.forEach((t, i) => {
        const want = referenceEmbed(t, dim);
        expect(Array.from(got[i]!), JSON.stringify(t)).toEqual(Array.from(want));
      });
    }
  });

  it('is deterministic across instances and calls, and of unit length (or zero for text without words)', async () => {
    const [a] = await new LocalEmbedder().embed(['Project Falcon uses PostgreSQL 16']);
    const [b] = await new LocalEmbedder().embed(['Project Falcon uses PostgreSQL 16']);
    expect(Array.from(a!)).toEqual(Array.from(b!));
    expect(Math.hypot(...a!)).toBeCloseTo(1, 6);
    const [empty] = await new LocalEmbedder().embed(['the and of']);
    expect(empty!.every((x) => x === 0)).toBe(true);
  });
});
