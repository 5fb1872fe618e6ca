import { join } from 'node:path';

/**
 * What memlane's s3:// and s3+ddb:// stores need on a fresh moto server (the
 * S3 + DynamoDB emulator the storage tests and `npm run bench -- --store` start):
 * a bucket, and the DynamoDB table LanceDB commits through (hash key
 * `base_uri`, range key `version`), which an operator would create.
 */
export interface MotoCommand {
  bin: string;
  args(host: string, port: number): string[];
  /** The venv's `moto_server`: present once `.ci/emulators.sh` has installed moto. */
  installed: string;
}

/**
 * How to start moto with its conditional writes made atomic: .ci/moto_server.py
 * run by the venv's Python (plain `moto_server` lets two racing conditional
 * creates both win now and then; the script says why).
 */
export function motoCommand(root: string): MotoCommand {
  return {
    bin: join(root, '.emulators', 'venv', 'bin', 'python'),
    args: (host, port) => [join(root, '.ci', 'moto_server.py'), '-H', host, '-p', String(port)],
    installed: join(root, '.emulators', 'venv', 'bin', 'moto_server'),
  };
}

export async function prepareMoto(port: number, bucket: string, table: string, key: string): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
  const { DynamoDBClient, CreateTableCommand } = await import('@aws-sdk/client-dynamodb');
  const aws = { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: key, secretAccessKey: key } };
  const s3 = new S3Client({ ...aws, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  s3.destroy();
  const ddb = new DynamoDBClient(aws);
  await ddb.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [
        { AttributeName: 'base_uri', AttributeType: 'S' },
        { AttributeName: 'version', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'base_uri', KeyType: 'HASH' },
        { AttributeName: 'version', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  ddb.destroy();
}
