/** Salesforce's two error shapes: top-level (HTTP status + `[{message, errorCode, fields?}]`) and per record. */

export interface RecordErrorBody {
  statusCode: string;
  message: string;
  fields: string[];
}

/** A whole request fails: the route replies `status` with `[{message, errorCode, fields?}]`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields?: string[],
  ) {
    super(message);
  }

  body(): Array<{ message: string; errorCode: string; fields?: string[] }> {
    return [
      { message: this.message, errorCode: this.errorCode, ...(this.fields ? { fields: this.fields } : {}) },
    ];
  }
}

/** One record fails: reported as `{statusCode, message, fields}` in a save result. */
export class RecordError extends Error {
  constructor(
    readonly statusCode: string,
    message: string,
    readonly fields: string[] = [],
  ) {
    super(message);
  }

  toJSON(): RecordErrorBody {
    return { statusCode: this.statusCode, message: this.message, fields: this.fields };
  }
}
