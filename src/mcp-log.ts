import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { LoggingLevelSchema, type LoggingLevel, type ServerNotification } from '@modelcontextprotocol/sdk/types.js';

const SEVERITY = new Map(LoggingLevelSchema.options.map((level, i) => [level, i]));

/** Sends one notification; the SDK's `extra.sendNotification` or `server.notification`. */
type Send = (notification: ServerNotification) => Promise<void>;

/** A log function: what the client should see, at a level of RFC 5424 as MCP names them. */
export type ClientLogger = (level: LoggingLevel, message: string) => void;

/**
 * The log messages a client sees (MCP `notifications/message`), one per
 * connected MCP server: one on stdio, one per HTTP session. Honours the
 * client's `logging/setLevel` (default `info`). This is apart from the
 * stderr log (`log.ts`), which stays the operator's.
 */
export class ClientLog {
  private level: LoggingLevel = 'info';

  constructor(private readonly server: Server) {}

  setLevel(level: LoggingLevel): void {
    this.level = level;
  }

  /**
   * Messages about one call. They travel with the call's own response: over
   * HTTP that is the call's SSE stream, the only route sure to reach a client
   * that opened no GET stream. Resolves once handed to the transport.
   */
  forCall(send: Send): (level: LoggingLevel, message: string) => Promise<void> {
    return (level, message) => (this.wants(level) ? send(notification(level, message)).catch(() => undefined) : Promise.resolve());
  }

  /**
   * Messages not tied to a call (maintenance results, a refused HTTP
   * request): on stdio they arrive at once; over HTTP only while the session
   * has its GET stream open (the SDK drops them otherwise).
   */
  readonly send: ClientLogger = (level, message) => {
    if (this.wants(level)) void this.server.notification(notification(level, message)).catch(() => undefined);
  };

  private wants(level: LoggingLevel): boolean {
    return SEVERITY.get(level)! >= SEVERITY.get(this.level)!;
  }
}

const notification = (level: LoggingLevel, message: string): ServerNotification => ({
  method: 'notifications/message',
  params: { level, logger: 'memlane', data: message },
});
