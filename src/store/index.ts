/** The SQLite study store: studies, their resolved configs and every evaluation. */
export {
  StudyStore,
  effectiveStatus,
  processAlive,
  encodeJson,
  decodeJson,
  type NewStudy,
  type StudyInfo,
  type EvaluationRecord,
  type DefaultResult,
  type OpenStoreOptions,
} from './study-store.js';
export { SCHEMA_VERSION, STORE_FORMAT, STUDY_STATUSES, type StudyStatus } from './schema.js';
