import type { IncomingMessage } from 'node:http';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ErrorCode } from '../errors.js';
import { HttpRefusal } from './http-reply.js';

/**
 * Reads a request body of at most `limit` bytes. A body that declares a
 * larger Content-Length is refused before a byte is read; a chunked one is
 * refused as soon as it passes the limit, and nothing of it is parsed.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new HttpRefusal(413, ErrorCode.PayloadTooLarge, `the request body exceeds ${limit} bytes (MEMLANE_MAX_BODY)`, { Connection: 'close' });
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err?: Error) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Stop buffering; the response closes the connection, so the rest is never read.
        req.pause();
        chunks.length = 0;
        done(tooLarge());
      } else chunks.push(chunk);
    };
    const onEnd = () => done();
    const onError = (err: Error) => done(err);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * Requests per token and window (MEMLANE_RATE_LIMIT), counted in memory by
 * `rate-limiter-flexible`: a maintained limiter whose fixed-window counters
 * and `msBeforeNext` give Retry-After without memlane keeping timers of its own.
 */
export class RateLimit {
  private readonly limiter: RateLimiterMemory;

  constructor(private readonly rate: { points: number; windowSeconds: number }) {
    this.limiter = new RateLimiterMemory({ points: rate.points, duration: rate.windowSeconds });
  }

  /** Counts one request for `key`; throws a 429 refusal when `key` is over its limit. */
  async take(key: string): Promise<void> {
    try {
      await this.limiter.consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      const seconds = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw new HttpRefusal(
        429,
        'RATE_LIMITED',
        `more than ${this.rate.points} requests per ${this.rate.windowSeconds} s for this session token (MEMLANE_RATE_LIMIT); retry in ${seconds} s`,
        { 'Retry-After': String(seconds) },
      );
    }
  }
}
