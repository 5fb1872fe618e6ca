import { VERSION } from './version.js';

/**
 * What memlane says of itself in `initialize`, shared by the MCP server and
 * the stdio start-up path that answers before the SDK is loaded
 * (transport/stdio-boot.ts). No SDK import here: this module is on the
 * start-up path.
 */
export const SERVER_INFO = { name: 'memlane', title: 'memlane: long-term memory for agents', version: VERSION };

export const SERVER_CAPABILITIES = { tools: {}, logging: {} };

export const SERVER_INSTRUCTIONS =
  'memlane is your long-term memory. Before answering questions about the user, past work or preferences, call batch_search. ' +
  'When you learn something worth keeping, call batch_remember with short self-contained statements. All tools take batches: ' +
  'put several items in one call. Every tool returns one result per item, in input order, and one bad item fails alone ' +
  '(unless options.atomic or continue_on_error: false); each error names its code and the JSON path of the field.';

/** The SDK's SUPPORTED_PROTOCOL_VERSIONS (1.32.2), newest first; a test keeps the two equal. */
export const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07'];
