import { readFileSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import { PROTOCOL_VERSIONS, SERVER_CAPABILITIES, SERVER_INFO, SERVER_INSTRUCTIONS } from '../server-info.js';

/**
 * The first moments of a stdio server, before the MCP SDK is loaded.
 *
 * A client's first two requests are `initialize` and `tools/list`, and it
 * does nothing until they are answered; loading the SDK (≈ 130 ms of module
 * evaluation here: its zod schemas, ajv), zod and LanceDB would make it wait
 * for all of that. So this reads stdin itself and answers those two (and
 * `ping`) from what is known without them: the server's info and the tool
 * listing written at build time (dist/src/tool-listings.json). Everything
 * else waits, in order, until `handOver` gives the stream to the SDK's
 * transport: the `initialize` request and the `initialized` notification are
 * replayed to it first (under a private id whose answer is dropped), so the
 * SDK server knows the client as if it had answered itself.
 *
 * Without a listing for the configured item limit (MEMLANE_MAX_BATCH other
 * than the default, or no build step), nothing is answered early: every
 * message waits for the SDK.
 */
export interface StdioBoot {
  /** Resolves at the first `tools/list` answered here (the moment to load the rest), or never. */
  readonly listed: Promise<void>;
  /** The SDK transport's input and output; everything from now on goes through them. */
  handOver(): { input: PassThrough; output: Writable };
}

const REPLAYED_ID = 'memlane-boot-initialize';

export function bootStdio(stdin: NodeJS.ReadStream = process.stdin, stdout: NodeJS.WriteStream = process.stdout): StdioBoot {
  const tools = readListing();
  const held: string[] = [];
  let replay: string[] = [];
  let partial = '';
  let queueing = tools === undefined; // once anything waits, everything after it waits too (order)
  let onListed!: () => void;
  const listed = new Promise<void>((resolve) => (onListed = resolve));

  const answer = (id: unknown, result: unknown) => stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id, result })}\n`);

  const handle = (line: string) => {
    if (queueing || line.trim() === '') return void held.push(line);
    let msg: { id?: unknown; method?: unknown; params?: { protocolVersion?: unknown } };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      queueing = true; // the SDK answers malformed input as it always does
      return void held.push(line);
    }
    if (msg.method === 'initialize' && msg.id !== undefined) {
      const asked = msg.params?.protocolVersion;
      const protocolVersion = typeof asked === 'string' && PROTOCOL_VERSIONS.includes(asked) ? asked : PROTOCOL_VERSIONS[0];
      answer(msg.id, { protocolVersion, capabilities: SERVER_CAPABILITIES, serverInfo: SERVER_INFO, instructions: SERVER_INSTRUCTIONS });
      replay.push(JSON.stringify({ ...msg, id: REPLAYED_ID }));
    } else if (msg.method === 'notifications/initialized' && msg.id === undefined) {
      replay.push(line);
    } else if (msg.method === 'tools/list' && msg.id !== undefined && replay.length > 0) {
      answer(msg.id, { tools });
      onListed();
    } else if (msg.method === 'ping' && msg.id !== undefined) {
      answer(msg.id, {});
    } else {
      queueing = true;
      held.push(line);
    }
  };

  const onData = (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop()!;
    for (const line of lines) handle(line);
  };
  stdin.on('data', onData);

  return {
    listed,
    handOver() {
      stdin.off('data', onData);
      const input = new PassThrough();
      for (const line of [...replay, ...held]) input.write(`${line}\n`);
      if (partial !== '') input.write(partial);
      replay = [];
      stdin.pipe(input);
      // The SDK's answer to the replayed initialize is the client's already: drop it.
      const output = new Writable({
        write(chunk: Buffer, _encoding, done) {
          const text = chunk.toString('utf8');
          if (text.includes(REPLAYED_ID) && isReplayAnswer(text)) return done();
          if (stdout.write(chunk)) done();
          else stdout.once('drain', () => done());
        },
      });
      return { input, output };
    },
  };
}

function isReplayAnswer(text: string): boolean {
  try {
    return (JSON.parse(text) as { id?: unknown }).id === REPLAYED_ID;
  } catch {
    return false;
  }
}

/** The build step's listing, if it is for the configured item limit. */
function readListing(): unknown[] | undefined {
  const configured = process.env.MEMLANE_MAX_BATCH;
  try {
    const file = JSON.parse(readFileSync(new URL('../tool-listings.json', import.meta.url), 'utf8')) as { maxBatch: number; tools: unknown[] };
    // Unset means the default, which the listing was built for.
    return configured === undefined || configured === '' || Number(configured) === file.maxBatch ? file.tools : undefined;
  } catch {
    return undefined;
  }
}
