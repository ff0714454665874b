/** The dry run's public surface (the CLI and the tests use it). */
export {
  currentValuesQuery,
  diffRecord,
  flattenFields,
  valueAt,
  type ChangeKind,
  type DesiredRecord,
  type FieldChange,
  type PreviewProblem,
  type RecordPreview,
} from './compare.js';
export { DRIFT_NOTE, formatPreview, showValue } from './format.js';
export {
  PREVIEW_STREAMS,
  QUERY_CHUNK,
  runDryRun,
  type DryRunDeps,
  type DryRunOptions,
  type DryRunResult,
  type ObjectCounts,
} from './run.js';
