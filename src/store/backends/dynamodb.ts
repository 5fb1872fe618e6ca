import { randomBytes } from 'node:crypto';
import type { StoreLocation } from './location.js';
import type { StorageSettings } from './options.js';
import { asRequestError, awsClientConfig } from './s3.js';
import { type ConditionalStore, StoreRequestError, type Versioned } from './conditional.js';

/**
 * memlane's lease items in the DynamoDB table of an `s3+ddb://` database: the
 * table LanceDB already commits through (hash key `base_uri`, range key
 * `version`), so the operator creates nothing more. An item's `base_uri` is
 * `memlane-lease:s3://bucket/key` and its `version` 0; LanceDB's own items are
 * keyed by the tables' URIs, so the two never meet. Conditional puts on the
 * item's random `tag` give what `If-None-Match` / `If-Match` give on S3,
 * whether or not the S3 store honours those.
 */
export interface DynamoLeaseStore extends ConditionalStore {
  /** The table's key schema is LanceDB's, or why not (for `memlane doctor`). */
  checkTable(): Promise<string | undefined>;
  close(): void;
}

export async function openDynamo(loc: StoreLocation, settings: StorageSettings): Promise<DynamoLeaseStore> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = await import('@aws-sdk/client-dynamodb');
  const client = new sdk.DynamoDBClient(awsClientConfig(settings, settings.get('dynamodb_endpoint', 'aws_endpoint_url_dynamodb')));
  const TableName = loc.ddbTable!;
  const keyOf = (key: string) => ({ base_uri: { S: `memlane-lease:s3://${loc.bucket}/${key}` }, version: { N: '0' } });
  const newTag = () => randomBytes(12).toString('hex');
  const failedCondition = (err: unknown) => (err as Error)?.name === 'ConditionalCheckFailedException';
  const fail = (err: unknown, what: string) => {
    if ((err as Error)?.name === 'ResourceNotFoundException') {
      return new StoreRequestError(`${what}: the DynamoDB table "${TableName}" does not exist (create it with hash key base_uri (S) and range key version (N))`, 400, { cause: err });
    }
    return asRequestError(err, what);
  };
  const describe = (key: string) => `dynamodb://${TableName}/memlane-lease:s3://${loc.bucket}/${key}`;

  return {
    describe,
    async create(key, body) {
      const tag = newTag();
      try {
        await client.send(
          new sdk.PutItemCommand({ TableName, Item: { ...keyOf(key), body: { S: body }, tag: { S: tag } }, ConditionExpression: 'attribute_not_exists(base_uri)' }),
        );
        return tag;
      } catch (err) {
        if (failedCondition(err)) return undefined;
        throw fail(err, `creating ${describe(key)}`);
      }
    },
    async replace(key, body, tag) {
      const next = newTag();
      try {
        await client.send(
          new sdk.PutItemCommand({
            TableName,
            Item: { ...keyOf(key), body: { S: body }, tag: { S: next } },
            ConditionExpression: '#t = :tag',
            ExpressionAttributeNames: { '#t': 'tag' },
            ExpressionAttributeValues: { ':tag': { S: tag } },
          }),
        );
        return next;
      } catch (err) {
        if (failedCondition(err)) return undefined;
        throw fail(err, `replacing ${describe(key)}`);
      }
    },
    async read(key): Promise<Versioned | undefined> {
      try {
        const out = await client.send(new sdk.GetItemCommand({ TableName, Key: keyOf(key), ConsistentRead: true }));
        if (!out.Item) return undefined;
        return { body: out.Item.body?.S ?? '', tag: out.Item.tag?.S ?? '' };
      } catch (err) {
        throw fail(err, `reading ${describe(key)}`);
      }
    },
    async remove(key, tag) {
      try {
        await client.send(
          new sdk.DeleteItemCommand({
            TableName,
            Key: keyOf(key),
            ConditionExpression: 'attribute_not_exists(base_uri) OR #t = :tag',
            ExpressionAttributeNames: { '#t': 'tag' },
            ExpressionAttributeValues: { ':tag': { S: tag } },
          }),
        );
        return true;
      } catch (err) {
        if (failedCondition(err)) return false;
        throw fail(err, `deleting ${describe(key)}`);
      }
    },
    async checkTable() {
      try {
        const out = await client.send(new sdk.DescribeTableCommand({ TableName }));
        const keys = (out.Table?.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).sort();
        const want = ['base_uri:HASH', 'version:RANGE'];
        return JSON.stringify(keys) === JSON.stringify(want) ? undefined : `the table's key schema is ${keys.join(', ') || 'unknown'}; LanceDB needs hash key base_uri (S) and range key version (N)`;
      } catch (err) {
        throw fail(err, `describing the DynamoDB table ${TableName}`);
      }
    },
    close: () => client.destroy(),
  };
}
