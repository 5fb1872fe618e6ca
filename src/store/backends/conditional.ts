/**
 * The few requests memlane makes to an object store (or DynamoDB) itself, for
 * its writer lease and for `memlane doctor`. LanceDB does all the data I/O.
 *
 * `tag` is what the store compares a conditional write against: the object's
 * ETag (S3, Azure), its generation (GCS), or a token attribute (DynamoDB).
 */
export interface Versioned {
  body: string;
  tag: string;
}

export interface ConditionalStore {
  /** `s3://bucket/prefix/…`, for messages. */
  describe(key: string): string;
  /** Writes `key` only if it does not exist (`If-None-Match: *`); its tag, or undefined when it exists. */
  create(key: string, body: string): Promise<string | undefined>;
  /** Replaces `key` only if its tag is still `tag` (`If-Match`); the new tag, or undefined when it changed or vanished. */
  replace(key: string, body: string, tag: string): Promise<string | undefined>;
  read(key: string): Promise<Versioned | undefined>;
  /** Deletes `key` only if its tag is still `tag`; false when it changed (already gone counts as deleted). */
  remove(key: string, tag: string): Promise<boolean>;
}

/** What `memlane doctor` and the compaction test also need: plain requests on whole objects. */
export interface ObjectStore extends ConditionalStore {
  put(key: string, body: Uint8Array | string): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
  delete(key: string): Promise<void>;
  /** Every key under `prefix` (recursively). */
  list(prefix: string): Promise<string[]>;
  close(): void;
}

/** A store request failed for a reason other than a precondition (unreachable, denied, no such bucket). */
export class StoreRequestError extends Error {
  override name = 'StoreRequestError';
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
