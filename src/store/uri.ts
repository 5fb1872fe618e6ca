/** A local directory rather than an object-store URI (`s3://…`, `gs://…`, `db://…`). */
export const isLocalUri = (uri: string): boolean => !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri);
