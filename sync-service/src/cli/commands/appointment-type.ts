import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SyncError } from '../../errors.js';
import { appointmentTypeInfo, parseJourneyConfig, type AppointmentTypeInfo } from '../../journey/index.js';
import type { Command, CliContext } from '../types.js';

/**
 * `appointment-type "<name>"`: what the journey does with a Cliniko appointment type name. Reads only
 * config/journey.yaml (JOURNEY_CONFIG_PATH), so a clinic manager can check a name before creating the
 * type in Cliniko, without Cliniko or Salesforce credentials. The same answer, as JSON, is served by
 * GET /appointment-types/validate?name= (docs/journey.md).
 */

const USAGE = `npm run sync -- appointment-type "<name>" [--json]

  Shows which journey trigger the appointment type maps to, the platform event and workflow it fires,
  its funding tag, and, for a name the config does not know, the configured name it nearly is.
  Names match exactly (case and spaces matter). Reads JOURNEY_CONFIG_PATH (default
  config/journey.yaml) and nothing else.

  --json    Print the answer as JSON (the shape GET /appointment-types/validate returns).`;

/** The journey config file, resolved against the working directory as the service does. */
async function readJourneyConfig(ctx: CliContext) {
  const file = path.resolve(ctx.rootDir, ctx.env.JOURNEY_CONFIG_PATH?.trim() || 'config/journey.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SyncError(
      'CONFIG_INVALID',
      `cannot read the journey config ${file} (JOURNEY_CONFIG_PATH): ${(err as Error).message}`,
      { record: { system: 'config', object: 'journey.yaml' }, cause: err },
    );
  }
  return { file, config: parseJourneyConfig(text) };
}

/** Human-readable lines for one answer. */
export function formatAppointmentTypeInfo(info: AppointmentTypeInfo): string[] {
  const category = {
    'initial-consult': 'initial consult',
    excluded: 'excluded from initial consults',
    standard: info.configured ? 'not an initial consult' : 'not an initial consult (not in the config)',
  }[info.category];
  const lines = [
    `appointment type: "${info.name}"`,
    `category:         ${category}`,
    `trigger:          ${info.triggerLabel ?? 'none of its own'}`,
    `event:            ${info.event ?? 'none of its own'}`,
    `workflow:         ${info.workflow ?? (info.trigger ? '(no workflow named for this trigger)' : 'none of its own')}`,
    `funding tag:      ${info.fundingSource ?? 'none'}`,
  ];
  if (info.nearMatches.length > 0)
    lines.push(`did you mean:     ${info.nearMatches.map((m) => `"${m}"`).join(', ')}`);
  lines.push('also, like every appointment:');
  for (const t of info.alsoFires) {
    lines.push(`  ${t.triggerLabel.padEnd(31)} -> ${t.workflow ?? '(no workflow named)'}`);
  }
  lines.push('', info.explanation);
  return lines;
}

export const appointmentTypeCommand: Command = {
  name: 'appointment-type',
  summary: 'What the patient journey does with an appointment type name (trigger, workflow, funding).',
  usage: USAGE,
  async run(args, ctx) {
    const json = args.includes('--json');
    const words = args.filter((a) => a !== '--json');
    const unknownOption = words.find((a) => a.startsWith('--'));
    if (unknownOption) {
      ctx.print(`unknown option ${unknownOption}\n\n${USAGE}`);
      return 2;
    }
    // A shell-split name (forgotten quotes) is joined back with single spaces.
    const name = words.join(' ');
    if (name.trim() === '') {
      ctx.print(`an appointment type name is required\n\n${USAGE}`);
      return 2;
    }
    const { config } = await readJourneyConfig(ctx);
    const info = appointmentTypeInfo(name, config);
    if (json) ctx.print(JSON.stringify(info, null, 2));
    else for (const line of formatAppointmentTypeInfo(info)) ctx.print(line);
    return 0;
  },
};
