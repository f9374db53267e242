/**
 * The study store's SQL schema (version 1).
 *
 * One SQLite file holds one or more studies; `samstar train` writes one file per
 * run folder (OUT/study.sqlite) so that a run folder is self-contained (copy it,
 * archive it, resume it), while the API can keep many studies in one file (a
 * benchmark, a sweep). `meta` marks the file as a samstar study store and holds
 * the schema version, so a wrong file is refused with a clear message.
 *
 * NaN totals are stored as NULL (SQLite has no NaN); term values that are not
 * finite are stored in JSON as the strings "NaN", "Infinity", "-Infinity".
 */
export const STORE_FORMAT = 'samstar-study';
export const SCHEMA_VERSION = 1;

export const STUDY_STATUSES = ['created', 'running', 'interrupted', 'finished', 'failed'] as const;
export type StudyStatus = (typeof STUDY_STATUSES)[number];

export const SCHEMA_V1 = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE studies (
  id                 INTEGER PRIMARY KEY,
  name               TEXT NOT NULL UNIQUE,
  created            TEXT NOT NULL,
  updated            TEXT NOT NULL,
  status             TEXT NOT NULL CHECK (status IN (${STUDY_STATUSES.map((s) => `'${s}'`).join(', ')})),
  seed               INTEGER NOT NULL,
  agent              TEXT NOT NULL,
  agent_options_json TEXT NOT NULL,
  knob_space_json    TEXT NOT NULL,
  config_json        TEXT NOT NULL,
  budget             INTEGER,
  default_total      REAL,
  default_terms_json TEXT,
  default_extra_json TEXT,
  stop_reasons_json  TEXT NOT NULL DEFAULT '[]',
  message            TEXT,
  pid                INTEGER,
  host               TEXT
);

CREATE TABLE evaluations (
  study_id       INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
  idx            INTEGER NOT NULL,
  generation     INTEGER NOT NULL,
  candidate      INTEGER NOT NULL,
  x_json         TEXT NOT NULL,
  knobs_json     TEXT NOT NULL,
  total          REAL,
  terms_json     TEXT NOT NULL,
  frames_json    TEXT NOT NULL,
  per_frame_json TEXT,
  ms             REAL NOT NULL,
  created        TEXT NOT NULL,
  error          TEXT,
  PRIMARY KEY (study_id, idx),
  UNIQUE (study_id, generation, candidate)
);

CREATE INDEX evaluations_by_total ON evaluations (study_id, total);
`;
