import type { z } from 'zod';
import { ErrorCode, type ItemError } from '../errors.js';

/** `['memories', 3, 'tags', 0]` → `memories[3].tags[0]`. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/**
 * zod issues of one item → one ItemError: the first issue names the field, the
 * message lists every problem so the caller can fix them all at once. Unknown
 * fields are named (a misspelt field must never be silently dropped), and the
 * two size caps report PAYLOAD_TOO_LARGE.
 */
export function issuesToError(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[]): ItemError {
  const described = issues.map((issue) => describeIssue(issue, prefix));
  const first = described[0]!;
  const payload = issues.some(isPayloadIssue);
  return {
    code: payload ? ErrorCode.PayloadTooLarge : ErrorCode.Validation,
    message: described.map((d) => `${d.field}: ${d.message}`).join('; '),
    field: first.field,
  };
}

function describeIssue(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[]): { field: string; message: string } {
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const field = jsonPath([...prefix, ...issue.path, key]);
    const names = issue.keys.map((k) => `"${k}"`).join(', ');
    return { field, message: `unknown field ${names}; check the spelling against the tool's input schema` };
  }
  return { field: jsonPath([...prefix, ...issue.path]) || jsonPath(prefix), message: inJsonWords(issue.message) };
}

/** zod's "expected record" (its name for a string-keyed map) is a JSON object to whoever sent it. */
const inJsonWords = (message: string): string => message.replace(/\brecord\b/g, 'object');

function isPayloadIssue(issue: z.core.$ZodIssue): boolean {
  if (issue.code === 'custom') return (issue.params as { payloadTooLarge?: boolean } | undefined)?.payloadTooLarge === true;
  return issue.code === 'too_big' && issue.origin === 'string' && issue.path[issue.path.length - 1] === 'content';
}
