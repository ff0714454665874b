/**
 * The Metadata API's SOAP endpoint (`POST /services/Soap/m/<version>`), as much of it as
 * `sf project deploy start` uses: `deploy` (a base64 zip and DeployOptions) and `checkDeployStatus`
 * (polled until done, with details). SOAP and not the REST `metadata/deployRequest`: SOAP is what the
 * CLI sends unless an admin sets `org-metadata-rest-deploy`, so it is the path every admin takes, and its
 * body is one XML document rather than a multipart upload (see README.md).
 *
 * A deploy is validated against the org as it stands (rules.ts) and, unless checkOnly (`--dry-run`)
 * or a rule failed, applied (apply.ts). Any failure rolls the whole deploy back (rollbackOnError),
 * which is what the CLI asks for by default.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { child, parseMetadataXml, text, type XmlNode } from '../../../../lib/metadata/xml.js';
import type { Sessions } from '../auth.js';
import { makeId } from '../ids.js';
import type { Org } from '../org.js';
import { formatDateTime } from '../values.js';
import { SUPPORTED_VERSIONS } from '../http.js';
import { applyDeploy, type DeployedComponents } from './apply.js';
import { PackageError, readPackage } from './package.js';
import { validateDeploy, type DeployProblem } from './rules.js';
import { readZip } from './zip.js';

export interface MetadataApiDeps {
  org: Org;
  sessions: Sessions;
  /** What deploys have put in the org beyond its schema (Flows, LWC bundles, FlexiPages, ...). */
  components: DeployedComponents;
}

interface DeployJob {
  id: string;
  checkOnly: boolean;
  createdBy: string;
  createdDate: string;
  completedDate: string;
  successes: Array<{ componentType: string; fullName: string; fileName: string }>;
  failures: DeployProblem[];
  /** A failure of the whole deploy (an unreadable zip), reported as errorMessage. */
  errorMessage?: string;
}

const ENVELOPE_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata"><soapenv:Body>';
const ENVELOPE_CLOSE = '</soapenv:Body></soapenv:Envelope>';

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

type XmlValue = string | number | boolean | undefined | XmlValue[] | { [key: string]: XmlValue };

/** Elements in the order given; arrays repeat their element; undefined leaves it out. */
function toXml(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => toXml(name, v)).join('');
  if (typeof value === 'object')
    return `<${name}>${Object.entries(value)
      .map(([k, v]) => toXml(k, v))
      .join('')}</${name}>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

function soapReply(reply: FastifyReply, body: string) {
  return reply.code(200).type('text/xml; charset=utf-8').send(`${ENVELOPE_OPEN}${body}${ENVELOPE_CLOSE}`);
}

function soapFault(reply: FastifyReply, code: string, message: string) {
  return reply
    .code(500)
    .type('text/xml; charset=utf-8')
    .send(
      `${ENVELOPE_OPEN}<soapenv:Fault><faultcode>sf:${code}</faultcode><faultstring>${escapeXml(
        `${code}: ${message}`,
      )}</faultstring></soapenv:Fault>${ENVELOPE_CLOSE}`,
    );
}

/** The element under the envelope whose name ends in `:suffix` (the prefix is the client's choice). */
function part(node: XmlNode | undefined, suffix: string): XmlNode | undefined {
  const key = Object.keys(node ?? {}).find((k) => k === suffix || k.endsWith(`:${suffix}`));
  return key ? child(node, key) : undefined;
}

function deployResult(job: DeployJob, includeDetails: boolean, org: Org): XmlValue {
  const failed = job.failures.length > 0 || job.errorMessage !== undefined;
  const componentTotal = job.successes.length + job.failures.length;
  return {
    checkOnly: job.checkOnly,
    completedDate: job.completedDate,
    createdBy: job.createdBy,
    createdByName: org.users.get(job.createdBy)?.username ?? '',
    createdDate: job.createdDate,
    details: includeDetails
      ? {
          componentFailures: job.failures.map((f) => ({
            changed: false,
            componentType: f.componentType,
            created: false,
            createdDate: job.completedDate,
            deleted: false,
            fileName: f.fileName,
            fullName: f.fullName,
            problem: f.problem,
            problemType: 'Error',
            success: false,
          })),
          componentSuccesses: failed
            ? []
            : job.successes.map((s) => ({
                changed: !job.checkOnly,
                componentType: s.componentType,
                created: !job.checkOnly,
                createdDate: job.completedDate,
                deleted: false,
                fileName: s.fileName,
                fullName: s.fullName,
                success: true,
              })),
          runTestResult: { numFailures: 0, numTestsRun: 0, totalTime: 0 },
        }
      : undefined,
    done: true,
    errorMessage: job.errorMessage,
    errorStatusCode: job.errorMessage !== undefined ? 'UNKNOWN_EXCEPTION' : undefined,
    id: job.id,
    ignoreWarnings: false,
    lastModifiedDate: job.completedDate,
    numberComponentErrors: job.failures.length,
    numberComponentsDeployed: failed ? 0 : componentTotal,
    numberComponentsTotal: componentTotal,
    numberTestErrors: 0,
    numberTestsCompleted: 0,
    numberTestsTotal: 0,
    rollbackOnError: true,
    runTestsEnabled: false,
    status: failed ? 'Failed' : 'Succeeded',
    success: !failed,
  };
}

/** Where a component sits in the zip, as the deploy result's `fileName` names it. */
function fileNameOf(type: string, fullName: string): string {
  const [object] = fullName.split('.');
  switch (type) {
    case 'CustomObject':
      return `objects/${fullName}.object`;
    case 'CustomField':
    case 'ListView':
    case 'ValidationRule':
      return `objects/${object ?? fullName}.object`;
    case 'PermissionSet':
      return `permissionsets/${fullName}.permissionset`;
    case 'Profile':
      return `profiles/${fullName}.profile`;
    case 'PermissionSetGroup':
      return `permissionsetgroups/${fullName}.permissionsetgroup`;
    case 'CustomMetadata':
      return `customMetadata/${fullName}.md`;
    case 'LightningComponentBundle':
      return `lwc/${fullName}`;
    default:
      return fullName;
  }
}

async function runDeploy(
  deps: MetadataApiDeps,
  id: string,
  userId: string,
  zipBase64: string,
  checkOnly: boolean,
): Promise<DeployJob> {
  const { org } = deps;
  const now = formatDateTime(org.clock.now());
  const job: DeployJob = {
    id,
    checkOnly,
    createdBy: userId,
    createdDate: now,
    completedDate: now,
    successes: [],
    failures: [],
  };
  try {
    const pkg = readPackage(await readZip(Buffer.from(zipBase64, 'base64')));
    job.failures = validateDeploy(pkg, org.schema);
    job.successes = pkg.manifest.map((m) => ({
      ...m,
      componentType: m.type,
      fileName: fileNameOf(m.type, m.fullName),
    }));
    if (job.failures.length === 0 && !checkOnly) applyDeploy(org, pkg, deps.components);
  } catch (error) {
    if (!(error instanceof PackageError) && !/zip|End of data|Corrupted/i.test((error as Error).message))
      throw error;
    job.errorMessage = (error as Error).message;
  }
  job.completedDate = formatDateTime(org.clock.now());
  return job;
}

export function registerMetadataApi(app: FastifyInstance, deps: MetadataApiDeps): void {
  const jobs = new Map<string, DeployJob>();
  let deployCount = 0;
  app.addContentTypeParser(['text/xml', 'application/soap+xml'], { parseAs: 'string' }, (_r, body, done) =>
    done(null, typeof body === 'string' ? body : body.toString('utf8')),
  );

  app.post<{ Params: { version: string }; Body: string | undefined }>(
    '/services/Soap/m/:version',
    async (request, reply) => {
      if (!SUPPORTED_VERSIONS.includes(request.params.version))
        return soapFault(reply, 'UNSUPPORTED_API_VERSION', `Invalid Api version specified on URL`);
      let envelope: XmlNode;
      try {
        envelope = parseMetadataXml(request.body ?? '').node;
      } catch {
        return soapFault(reply, 'INVALID_XML', 'The request body is not a SOAP envelope');
      }
      const sessionId = text(child(part(envelope, 'Header'), 'SessionHeader'), 'sessionId') ?? '';
      const userId = deps.sessions.resolve(sessionId.trim());
      if (!userId) return soapFault(reply, 'INVALID_SESSION_ID', 'Invalid Session ID found in SessionHeader');
      if (!deps.org.user(userId).bypassSecurity)
        return soapFault(
          reply,
          'INSUFFICIENT_ACCESS',
          'use of the Metadata API requires a user with the ModifyAllData or ModifyMetadata permissions',
        );
      if (!deps.org.countRequest())
        return soapFault(reply, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
      const body = part(envelope, 'Body');
      const deploy = child(body, 'deploy');
      if (deploy) {
        const options = child(deploy, 'DeployOptions');
        const job = await runDeploy(
          deps,
          makeId('0Af', ++deployCount),
          userId,
          text(deploy, 'ZipFile') ?? '',
          text(options, 'checkOnly') === 'true',
        );
        jobs.set(job.id, job);
        return soapReply(
          reply,
          toXml('deployResponse', { result: { done: false, id: job.id, state: 'Queued' } }),
        );
      }
      const check = child(body, 'checkDeployStatus');
      if (check) {
        const job = jobs.get(text(check, 'asyncProcessId') ?? '');
        if (!job) return soapFault(reply, 'INVALID_ID_FIELD', 'invalid id');
        const result = deployResult(job, text(check, 'includeDetails') === 'true', deps.org);
        return soapReply(reply, toXml('checkDeployStatusResponse', { result }));
      }
      const method = Object.keys(body ?? {}).find((k) => !k.startsWith('@_')) ?? '(none)';
      return soapFault(
        reply,
        'UNKNOWN_EXCEPTION',
        `The emulator does not implement the Metadata API call ${method}`,
      );
    },
  );
}
