import { randomBytes } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import { z } from 'zod';

/** Contract §1 and §2 identifier shapes, shared by validation and generation. */
export const agentIdSchema = z
  .string()
  .regex(/^[\w.-]{1,64}$/, 'agent_id must be 1–64 characters of A-Z a-z 0-9 . _ -');

export const sessionIdSchema = z.string().regex(/^ses_[0-9a-f]{16}$/, 'session_id is "ses_" + 16 lowercase hex');

export const TOKEN_PATTERN = /^mlt_[A-Za-z0-9_-]{43}$/;

export const namespaceOf = (agentId: string): string => `agent:${agentId}`;

export const newSessionId = (): string => `ses_${randomBytes(8).toString('hex')}`;

export const newToken = (): string => `mlt_${randomBytes(32).toString('base64url')}`;

// Monotonic: ids minted in one millisecond still sort in creation order.
const ulid = monotonicFactory();
export const newMemoryId = (): string => `mem_${ulid()}`;
export const newBatchId = (): string => `bat_${ulid()}`;
