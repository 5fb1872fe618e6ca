/** The stable error codes of contract §3. Callers branch on these, never on messages. */
export const ErrorCode = {
  Validation: 'VALIDATION_ERROR',
  DuplicateId: 'DUPLICATE_ID',
  NotFound: 'NOT_FOUND',
  Immutable: 'IMMUTABLE',
  VersionConflict: 'VERSION_CONFLICT',
  BatchTooLarge: 'BATCH_TOO_LARGE',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  Unauthorized: 'UNAUTHORIZED',
  SessionExpired: 'SESSION_EXPIRED',
  Timeout: 'TIMEOUT',
  EmbeddingFailed: 'EMBEDDING_FAILED',
  StorageError: 'STORAGE_ERROR',
  Internal: 'INTERNAL',
  /** A write tool called on a read replica (MEMLANE_READ_ONLY=1); added beside the contract's codes. */
  ReadOnly: 'READ_ONLY',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const errorCodes = Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]];

/** An error as a value: a code, a message a person can act on, the JSON path of the field. */
export interface ItemError {
  code: ErrorCode;
  message: string;
  field?: string;
}

export function itemError(code: ErrorCode, message: string, field?: string): ItemError {
  return field === undefined ? { code, message } : { code, message, field };
}

/**
 * A failure of the whole call (no scope, bad envelope, over the limit). The
 * server turns it into `isError: true` and writes nothing.
 */
export class CallError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'CallError';
  }
}

/** A storage failure that survived memlane's retries. Items report `STORAGE_ERROR`. */
export class StorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
  }
}

/**
 * A call's `timeout_ms` ran out at a safe point (waiting for the write lock,
 * between stages; never mid-commit). Items report `TIMEOUT` with nothing written.
 */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** The environment's configuration is invalid (contract §5): one line, exit status 1. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A write on a read replica (MEMLANE_READ_ONLY=1): refused before anything is read or written. */
export class ReadOnlyError extends Error {
  override name = 'ReadOnlyError';
}
