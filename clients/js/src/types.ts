/**
 * The service's JSON bodies as this client reads and sends them.
 *
 * Field names stay as they are on the wire (snake_case), so these types read like the HTTP API
 * reference and a body can be logged or stored without translation. Timestamps are ISO 8601
 * strings; ids are UUID strings. Each interface that mirrors a schema of the served OpenAPI
 * document is checked against it field by field (names and required-ness) by the Python suite.
 */

/** A job's lifecycle; the last three are terminal. */
export type JobStatus =
  | 'pending' // queued, or waiting to retry after a transient error
  | 'processing' // a worker holds it
  | 'completed' // `result` is set
  | 'failed' // `error` and `error_code` say why
  | 'cancelled'; // stopped by a client

/** What writes more items than the bank holds (`offline`: the service's own generators). */
export type Generation = 'offline' | 'model' | 'bank';

export interface CatalogSkill {
  skill: string;
  /** The generator's; null for a skill known only from the bank. */
  description: string | null;
  levels: number | null;
  /** Active items of the skill in the bank. */
  item_count: number;
  generation: Generation;
}

export interface CatalogTopic {
  name: string;
  item_count: number;
  generation: Generation;
  skills: CatalogSkill[];
}

export interface CatalogSubject {
  name: string;
  item_count: number;
  generation: Generation;
  topics: CatalogTopic[];
}

/** `GET /api/v1/catalog`: names are the service's spellings; it accepts any casing of them. */
export interface Catalog {
  model_configured: boolean;
  subjects: CatalogSubject[];
}

export interface Student {
  student_id: string;
  external_id: string | null;
  display_name: string | null;
  grade_level: number | null;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface StudentCreate {
  display_name?: string;
  external_id?: string;
  grade_level?: number;
  metadata?: Record<string, unknown>;
}

export interface ItemChoice {
  id: string;
  text: string;
  /** Only for server keys; null for a student token. */
  misconception?: string | null;
}

export interface ResponseSummary {
  response_id: string;
  answer: string;
  correct: boolean;
  feedback_code: string;
  created_at: string;
}

/**
 * One item of an assignment. A student token sees `answer` and `solution` null (and every
 * choice's `misconception`), whoever started the job: code must not rely on them in a browser.
 */
export interface AssignedItem {
  position: number;
  item_id: string;
  subject: string;
  topic: string;
  skill: string;
  type: string;
  stem: string;
  choices: ItemChoice[];
  hints: string[];
  difficulty: number;
  source: string;
  predicted_success: number;
  reason: string;
  answer?: string | null;
  answer_policy: string;
  solution?: string | null;
  response?: ResponseSummary | null;
}

export interface Assignment {
  assignment_id: string;
  student_id: string;
  subject: string;
  topic: string | null;
  goal_tags: string[];
  num_items: number;
  items: AssignedItem[];
  bank_count: number;
  generated_count: number;
  warnings: string[];
  created_at: string;
}

/** The body of both assign endpoints. */
export interface AssignRequest {
  student_id: string;
  subject: string;
  num_items: number;
  topic?: string;
  goal_tags?: string[];
}

export interface AsyncAssignRequest extends AssignRequest {
  /** Absolute http(s) URL that gets one POST when the job ends. */
  webhook_url?: string;
}

/** The 202 body that starts a job; the two URLs are paths to join to the base URL. */
export interface JobAccepted {
  success?: true;
  job_id: string;
  status: JobStatus;
  message?: string;
  status_url: string;
  websocket_url: string;
}

/** `GET /api/v1/jobs/{id}`; `result` only when completed, `error` only when failed or cancelled. */
export interface Job {
  job_id: string;
  job_type: string;
  status: JobStatus;
  progress_percent: number;
  progress_message: string | null;
  created_at: string;
  updated_at: string;
  result?: Assignment | null;
  error?: string | null;
  error_code?: string | null;
  student_id: string | null;
  /** Grows with every change of the job. */
  seq: number;
  attempt: number;
  expires_at: string | null;
}

export interface AnswerResult {
  response_id: string;
  assignment_id: string;
  position: number;
  item_id: string;
  correct: boolean;
  feedback_code: string;
  message: string;
  /** The model's estimate before this answer. */
  predicted_success: number;
  skill: string;
  /** The student's estimate on the skill after this answer. */
  ability: number;
  correct_answer: string;
  solution: string | null;
  created_at: string;
}

export interface StudentToken {
  token: string;
  /** Names the token to revoke it (`revokeStudentToken`). */
  token_id: string;
  student_id: string;
  expires_at: string;
}

/** A student token as a server key sees it once revoked: never the secret itself. */
export interface StudentTokenInfo {
  token_id: string;
  student_id: string;
  token_suffix: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
}

/** A class: a teacher's named group of students. */
export interface SchoolClass {
  class_id: string;
  name: string;
  student_count: number;
  created_at: string;
  updated_at: string;
}

/** Students by our id or by yours (`external_id`). */
export interface StudentNames {
  student_ids?: string[];
  external_ids?: string[];
}

export interface ClassCreate extends StudentNames {
  name: string;
}

/** What practice to give every student of a class (the async assign, without `student_id`). */
export interface ClassAssignRequest {
  subject: string;
  num_items: number;
  topic?: string;
  goal_tags?: string[];
  /** Told of each student's job as it ends, and of the batch once all have. */
  webhook_url?: string;
}

export interface BatchCreate extends ClassAssignRequest {
  student_ids?: string[];
  external_ids?: string[];
}

export interface BatchJob {
  job_id: string;
  student_id: string;
  status: JobStatus;
  progress_percent: number;
  status_url: string;
}

/** The 202 body that starts a batch: one job per student. */
export interface BatchAccepted {
  success?: true;
  batch_id: string;
  status: JobStatus;
  message?: string;
  status_url: string;
  websocket_url: string;
  events_url: string;
  jobs: BatchJob[];
}

/** `GET /api/v1/batches/{id}`: the batch and each student's job. */
export interface Batch {
  batch_id: string;
  class_id: string | null;
  status: JobStatus;
  progress_percent: number;
  progress_message: string | null;
  counts: Record<JobStatus, number>;
  jobs: BatchJob[];
  created_at: string;
  updated_at: string;
}

export interface MasteryRule {
  success: number;
  min_answers: number;
}

/** A student's standing in one skill they have practised. */
export interface SkillStanding {
  skill: string;
  ability: number;
  /** The estimated chance of answering a typical item of the skill. */
  typical_success: number;
  answered: number;
  last_practised: string;
  mastered: boolean;
}

export interface Mastery {
  student_id: string;
  rule: MasteryRule;
  skills: SkillStanding[];
}

export interface AssignmentSummary {
  assignment_id: string;
  subject: string;
  topic: string | null;
  num_items: number;
  answered: number;
  correct: number;
  created_at: string;
}

export interface ReportRow {
  student_id: string;
  display_name: string | null;
  external_id: string | null;
  /** Only the skills the student has practised. */
  skills: Record<string, SkillStanding>;
}

/** A class's students by skills. */
export interface ClassReport {
  class_id: string;
  name: string;
  rule: MasteryRule;
  skills: string[];
  students: ReportRow[];
}

export interface StatusMessage {
  type: 'status';
  status: 'pending' | 'processing';
  progress_percent: number;
  progress_message: string | null;
  seq: number;
}

export interface CompletedMessage {
  type: 'completed';
  result: Assignment;
  seq: number;
}

export interface FailedMessage {
  type: 'failed';
  error: string | null;
  seq: number;
}

export interface CancelledMessage {
  type: 'cancelled';
  error: string | null;
  seq: number;
}

/** What following a job yields: status messages, then exactly one terminal message. */
export type JobMessage = StatusMessage | CompletedMessage | FailedMessage | CancelledMessage;
export type TerminalMessage = CompletedMessage | FailedMessage | CancelledMessage;
