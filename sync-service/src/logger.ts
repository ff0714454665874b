import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export const REDACTED = '[REDACTED]';

/**
 * Keys whose values are secrets or patient data, compared after lower-casing and dropping every
 * character that is not a letter or digit (so `first_name`, `FirstName` and `first-name` all match).
 * Redaction applies at any depth of a log object, because records travel in many shapes
 * (Cliniko JSON, Salesforce payloads, error details).
 */
const SENSITIVE_KEYS = new Set(
  [
    // secrets
    'authorization',
    'proxy-authorization',
    'cookie',
    'set-cookie',
    'password',
    'passwd',
    'secret',
    'client_secret',
    'clientSecret',
    'token',
    'access_token',
    'refresh_token',
    'id_token',
    'accessToken',
    'refreshToken',
    'sessionId',
    'session_id',
    'api_key',
    'apiKey',
    'x-api-key',
    'private_key',
    'privateKey',
    'assertion',
    'encryption_key',
    'encryptionKey',
    'retiredEncryptionKeys',
    'retired_encryption_keys',
    'adminTokens',
    'admin_tokens',
    'signature',
    // patient identity and contact details (Cliniko and Salesforce spellings)
    'name',
    'first_name',
    'last_name',
    'preferred_first_name',
    'middle_name',
    'full_name',
    'patient_name',
    'FirstName',
    'LastName',
    'MiddleName',
    'Salutation',
    'title',
    'email',
    'email_address',
    'Email',
    'phone',
    'phone_number',
    'phone_numbers',
    'number',
    'MobilePhone',
    'HomePhone',
    'OtherPhone',
    'Phone',
    'mobile',
    'address',
    'address_1',
    'address_2',
    'address_3',
    'city',
    'post_code',
    'postcode',
    'postal_code',
    'state',
    'country',
    'MailingStreet',
    'MailingCity',
    'MailingPostalCode',
    'MailingState',
    'MailingCountry',
    'OtherStreet',
    'date_of_birth',
    'dob',
    'Birthdate',
    'occupation',
    'emergency_contact',
    'guardian_name',
    'medicare',
    'medicare_reference_number',
    'dva_card_number',
    'health_fund_member_number',
    'nhs_number',
    'sex',
    'gender',
    'gender_identity',
    'pronouns',
    'sexual_orientation',
    // clinical and free text
    'notes',
    'note',
    'patient_notes',
    'appointment_notes',
    'cancellation_note',
    'cancellation_reason',
    'cancellation_reason_description',
    'medical_alert',
    'medical_alerts',
    'treatment_note',
    'content',
    'body',
    'description',
    'referral_source',
    'reminder_type_detail',
    'invoice_note',
    'invoice_extra_information',
  ].map(normaliseKey),
);

function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEYS.has(normaliseKey(key));
}

/**
 * Returns a copy of `value` with every sensitive key's value replaced by REDACTED, at any depth.
 * Error objects are serialised first (type, message, stack, code) so their own fields are checked too.
 */
export function redactDeep(value: unknown, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Buffer.isBuffer(value)) return `[Buffer ${value.length} bytes]`;
  if (value instanceof Date) return value;
  if (value instanceof Error) return redactDeep(serialiseError(value), seen);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, seen));
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] =
      isSensitiveKey(key) && child !== undefined && child !== null ? REDACTED : redactDeep(child, seen);
  }
  return out;
}

function serialiseError(err: Error): Record<string, unknown> {
  const own: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(err)) own[key] = child;
  return {
    ...own,
    type: err.name,
    message: err.message,
    stack: err.stack,
    ...(err.cause ? { cause: err.cause } : {}),
  };
}

export interface LoggerSettings {
  readonly level: string;
  /** Human-readable output; the server turns it on only when stdout is a TTY. */
  readonly pretty?: boolean;
  /** Where to write; stdout by default. Tests pass a stream to inspect every line. */
  readonly destination?: DestinationStream;
  readonly base?: Record<string, unknown>;
}

/** The one logger factory. Modules take a child: `logger.child({ module: 'cliniko' })`. */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: settings.base ?? {},
    timestamp: pino.stdTimeFunctions.isoTime,
    // Fastify's request serialiser puts headers at fixed paths; redact them before anything else.
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      censor: REDACTED,
    },
    serializers: { err: (err: unknown) => redactDeep(err) },
    formatters: {
      log: (object) => redactDeep(object) as Record<string, unknown>,
    },
  };
  if (settings.destination) return pino(options, settings.destination);
  if (settings.pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:standard' } },
    });
  }
  return pino(options);
}
