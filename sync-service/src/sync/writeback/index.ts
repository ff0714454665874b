/** The write-back poller's public surface (the CLI, the server and the tests use it). */
export { createReversePoller, resolveIntegrationUserId, reverseFields } from './poller.js';
export {
  REVERSE_STREAM,
  type QueryPage,
  type ReverseDeps,
  type ReversePoller,
  type ReverseResult,
  type SoqlConnection,
} from './types.js';
