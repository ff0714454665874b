import type { Command } from './types.js';
import { onceCommand, backfillCommand } from './commands/run-once.js';
import { statusCommand } from './commands/status.js';
import { replayCommand } from './commands/replay.js';

/** Every `sync` command, in the order `sync help` lists them. */
export const COMMANDS: readonly Command[] = [onceCommand, backfillCommand, replayCommand, statusCommand];
