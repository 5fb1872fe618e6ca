import { it } from 'vitest';
import { z } from 'zod';
import { rememberItemSchema } from '../../src/tools/remember.js';
import { CallToolRequestSchema } from '@modelcontextprotocol/sdk/types.js';
it('debug', () => {
  const md = JSON.parse('{"__proto__":{"polluted":true},"b":2}');
  console.log('own', Object.keys(md));
  const r = rememberItemSchema.safeParse({ content: 'x', metadata: md });
  console.log('memlane zod', JSON.stringify((r as any).data?.metadata));
  const req = CallToolRequestSchema.safeParse({ method: 'tools/call', params: { name: 'x', arguments: { memories: [{ content: 'x', metadata: md }] } } });
  console.log('sdk', JSON.stringify((req as any).data?.params?.arguments));
  console.log(JSON.stringify(z.record(z.string(), z.unknown()).parse(md)));
});
