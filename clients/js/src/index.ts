/**
 * The practicegen client: `createClient` and the types of what it sends and receives.
 * The React hook lives in `@practicegen/client/react`.
 */

export { createClient, PracticegenClient } from './client.js';
export type { AssignAsyncOptions, AssignOptions, ClientOptions, MintStudentTokenOptions } from './client.js';
export {
  JobCancelledError,
  JobError,
  JobFailedError,
  JobWaitTimeout,
  JobWatchClosed,
  PracticegenError,
  RequestTimeoutError,
} from './errors.js';
export type { BackoffPolicy } from './backoff.js';
export type { FetchLike } from './http.js';
export type { WebSocketConstructor, WebSocketLike } from './socket.js';
export type { JobWatch, WatchJobOptions, WatchTransport } from './watch.js';
export type { WaitForJobOptions } from './wait.js';
export type * from './types.js';
