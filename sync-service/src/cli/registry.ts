import type { Command } from './types.js';
import { onceCommand, backfillCommand } from './commands/run-once.js';
import { statusCommand } from './commands/status.js';
import { replayCommand } from './commands/replay.js';
import { dataMapCommand } from './commands/data-map.js';
import { auditCommand } from './commands/audit.js';
import { runCommand } from './commands/run.js';
import { appointmentTypeCommand } from './commands/appointment-type.js';
import { dryRunCommand } from './commands/dry-run.js';
import { writebackCommand } from './commands/writeback.js';
import { reconcileCommand } from './commands/reconcile.js';
import { quarantineCommand } from './commands/quarantine.js';
import { matchesCommand } from './commands/matches.js';
import { contactsCommand } from './commands/contacts.js';

/** Every `sync` command, in the order `sync help` lists them. */
export const COMMANDS: readonly Command[] = [
  runCommand,
  onceCommand,
  backfillCommand,
  dryRunCommand,
  replayCommand,
  statusCommand,
  quarantineCommand,
  matchesCommand,
  contactsCommand,
  dataMapCommand,
  auditCommand,
  appointmentTypeCommand,
  writebackCommand,
  reconcileCommand,
];
