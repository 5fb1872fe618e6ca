import type { BatchTool } from '../batch/tool.js';
import { deleteTool } from './delete.js';
import { getTool } from './get.js';
import { rememberTool } from './remember.js';
import { searchTool } from './search.js';
import { updateTool } from './update.js';

/** Every tool the server offers; adding one is a new file and a line here. */
export const tools: readonly BatchTool[] = [rememberTool, updateTool, deleteTool, searchTool, getTool];
