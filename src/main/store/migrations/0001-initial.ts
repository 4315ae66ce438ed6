/**
 * 0001 — the first schema (issue 3). Never edit once shipped: add a new numbered migration.
 *
 * Times are ISO-8601 UTC strings. UIDs are stored as text exactly as read (RSNA's `ID_…`
 * SOPInstanceUIDs are not valid UIDs and must still be kept).
 */
export const up = `
CREATE TABLE studies (
  study_uid        TEXT PRIMARY KEY,
  patient_name     TEXT,
  patient_id       TEXT,
  accession        TEXT,
  description      TEXT,
  study_date       TEXT,
  study_time       TEXT,
  first_arrival_at TEXT NOT NULL,
  last_arrival_at  TEXT NOT NULL,
  review_status    TEXT NOT NULL DEFAULT 'new'
                   CHECK (review_status IN ('new', 'in_review', 'confirmed', 'dismissed'))
);

CREATE TABLE series (
  series_uid      TEXT PRIMARY KEY,
  study_uid       TEXT NOT NULL REFERENCES studies(study_uid),
  series_number   INTEGER,
  description     TEXT,
  -- receiving: slices still arriving; ready: settled and ordered, queued for inference;
  -- awaiting_model: ready but no model installed; scored: inference done; failed: see reason.
  state           TEXT NOT NULL DEFAULT 'receiving'
                  CHECK (state IN ('receiving', 'ready', 'awaiting_model', 'scored', 'failed')),
  state_reason    TEXT,
  last_arrival_at TEXT NOT NULL,
  ready_at        TEXT,
  slice_count     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX series_by_study ON series(study_uid);
CREATE INDEX series_by_state ON series(state, last_arrival_at);

CREATE TABLE instances (
  id                INTEGER PRIMARY KEY,
  sop_uid           TEXT NOT NULL UNIQUE,
  series_uid        TEXT NOT NULL REFERENCES series(series_uid),
  study_uid         TEXT NOT NULL REFERENCES studies(study_uid),
  instance_number   INTEGER,
  position_x        REAL,
  position_y        REAL,
  position_z        REAL,
  orientation       TEXT,          -- JSON [6]
  slice_index       INTEGER,       -- order within the series once it is ready (0 = first)
  slice_position    REAL,          -- ImagePositionPatient projected on the slice normal (mm)
  original_rows     INTEGER NOT NULL,
  original_columns  INTEGER NOT NULL,
  resampled         INTEGER NOT NULL, -- 1 when resampled to 512×512 (bilinear)
  pixel_spacing     TEXT,          -- JSON [2] or NULL
  window_center     REAL NOT NULL,
  window_width      REAL NOT NULL,
  window_source     TEXT NOT NULL CHECK (window_source IN ('tags', 'default')),
  rescale_slope     REAL NOT NULL,
  rescale_intercept REAL NOT NULL,
  transfer_syntax   TEXT NOT NULL,
  file_sha256       TEXT NOT NULL,
  pixel_sha256      TEXT NOT NULL,
  hu_path           TEXT NOT NULL, -- relative to the data folder
  source_path       TEXT NOT NULL, -- where the file was when it was read
  received_at       TEXT NOT NULL
);
CREATE INDEX instances_by_series ON instances(series_uid, slice_index);

-- Every file the core has looked at, by path and content: what makes a restart idempotent.
CREATE TABLE files (
  path          TEXT NOT NULL,
  sha256        TEXT NOT NULL,
  size          INTEGER NOT NULL,
  outcome       TEXT NOT NULL CHECK (outcome IN ('stored', 'duplicate', 'quarantined', 'conflict')),
  instance_id   INTEGER REFERENCES instances(id),
  quarantine_id INTEGER REFERENCES quarantine(id),
  seen_at       TEXT NOT NULL,
  PRIMARY KEY (path, sha256)
);

CREATE TABLE quarantine (
  id          INTEGER PRIMARY KEY,
  path        TEXT NOT NULL,
  sha256      TEXT,
  reason      TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  -- set when the same path later yields a good slice 
  resolved_at TEXT
);
CREATE INDEX quarantine_open ON quarantine(resolved_at, created_at);

-- The same SOPInstanceUID with different pixels: never overwritten, recorded for a human.
CREATE TABLE conflicts (
  id                   INTEGER PRIMARY KEY,
  sop_uid              TEXT NOT NULL,
  existing_instance_id INTEGER NOT NULL REFERENCES instances(id),
  path                 TEXT NOT NULL,
  file_sha256          TEXT NOT NULL,
  pixel_sha256         TEXT NOT NULL,
  created_at           TEXT NOT NULL,
  UNIQUE (sop_uid, pixel_sha256)
);

CREATE TABLE predictions (
  instance_id   INTEGER NOT NULL REFERENCES instances(id),
  model_id      TEXT NOT NULL,
  model_version TEXT NOT NULL,
  provider      TEXT NOT NULL,
  p_any REAL NOT NULL, p_epidural REAL NOT NULL, p_intraparenchymal REAL NOT NULL,
  p_intraventricular REAL NOT NULL, p_subarachnoid REAL NOT NULL, p_subdural REAL NOT NULL,
  created_at    TEXT NOT NULL,
  PRIMARY KEY (instance_id, model_id)
);

CREATE TABLE study_scores (
  study_uid  TEXT NOT NULL REFERENCES studies(study_uid),
  model_id   TEXT NOT NULL, -- a model id, an ensemble id, or 'ranking' (the site's chosen family)
  p_any REAL NOT NULL, p_epidural REAL NOT NULL, p_intraparenchymal REAL NOT NULL,
  p_intraventricular REAL NOT NULL, p_subarachnoid REAL NOT NULL, p_subdural REAL NOT NULL,
  key_slices TEXT NOT NULL DEFAULT '[]', -- JSON: instance ids that drove the score
  computed_at TEXT NOT NULL,
  PRIMARY KEY (study_uid, model_id)
);
CREATE INDEX study_scores_rank ON study_scores(model_id, p_any DESC);

CREATE TABLE reviews (
  id         INTEGER PRIMARY KEY,
  study_uid  TEXT NOT NULL REFERENCES studies(study_uid),
  reviewer   TEXT NOT NULL,
  decision   TEXT NOT NULL CHECK (decision IN ('in_review', 'confirmed', 'dismissed', 'reopened')),
  subtypes   TEXT NOT NULL DEFAULT '[]',
  comment    TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
CREATE INDEX reviews_by_study ON reviews(study_uid, created_at);

-- Append-only: the triggers refuse any change to a written row.
CREATE TABLE audit_log (
  id      INTEGER PRIMARY KEY,
  at      TEXT NOT NULL,
  actor   TEXT NOT NULL,
  action  TEXT NOT NULL,
  subject TEXT,
  detail  TEXT NOT NULL DEFAULT '{}'
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- Persistent work queue: a crash or restart resumes without losing or repeating work.
CREATE TABLE jobs (
  id          INTEGER PRIMARY KEY,
  kind        TEXT NOT NULL,
  key         TEXT NOT NULL,
  payload     TEXT NOT NULL DEFAULT '{}',
  state       TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT,
  not_before  TEXT,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  UNIQUE (kind, key)
);
CREATE INDEX jobs_ready ON jobs(state, kind, not_before);

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

/**
 * The same schema in PostgreSQL's words, added when the store gained its PostgreSQL backend (the
 * SQLite text above is as it shipped). Differences, and only these: an INTEGER PRIMARY KEY is a
 * BIGINT identity column (ids and the columns that refer to them BIGINT, as SQLite's rowid is 64
 * bits); REAL is DOUBLE PRECISION (PostgreSQL's REAL is 4 bytes and would round the stored
 * probabilities); `quarantine` is made before `files`, which refers to it (PostgreSQL resolves a
 * foreign key when it is declared); a trigger is a PL/pgSQL function, and TRUNCATE, which skips
 * row triggers, is refused on the append-only table too.
 */
export const upPostgres = `
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%', TG_ARGV[0];
END
$$;

CREATE TABLE studies (
  study_uid        TEXT PRIMARY KEY,
  patient_name     TEXT,
  patient_id       TEXT,
  accession        TEXT,
  description      TEXT,
  study_date       TEXT,
  study_time       TEXT,
  first_arrival_at TEXT NOT NULL,
  last_arrival_at  TEXT NOT NULL,
  review_status    TEXT NOT NULL DEFAULT 'new'
                   CHECK (review_status IN ('new', 'in_review', 'confirmed', 'dismissed'))
);

CREATE TABLE series (
  series_uid      TEXT PRIMARY KEY,
  study_uid       TEXT NOT NULL REFERENCES studies(study_uid),
  series_number   INTEGER,
  description     TEXT,
  state           TEXT NOT NULL DEFAULT 'receiving'
                  CHECK (state IN ('receiving', 'ready', 'awaiting_model', 'scored', 'failed')),
  state_reason    TEXT,
  last_arrival_at TEXT NOT NULL,
  ready_at        TEXT,
  slice_count     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX series_by_study ON series(study_uid);
CREATE INDEX series_by_state ON series(state, last_arrival_at);

CREATE TABLE instances (
  id                BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  sop_uid           TEXT NOT NULL UNIQUE,
  series_uid        TEXT NOT NULL REFERENCES series(series_uid),
  study_uid         TEXT NOT NULL REFERENCES studies(study_uid),
  instance_number   INTEGER,
  position_x        DOUBLE PRECISION,
  position_y        DOUBLE PRECISION,
  position_z        DOUBLE PRECISION,
  orientation       TEXT,
  slice_index       INTEGER,
  slice_position    DOUBLE PRECISION,
  original_rows     INTEGER NOT NULL,
  original_columns  INTEGER NOT NULL,
  resampled         INTEGER NOT NULL,
  pixel_spacing     TEXT,
  window_center     DOUBLE PRECISION NOT NULL,
  window_width      DOUBLE PRECISION NOT NULL,
  window_source     TEXT NOT NULL CHECK (window_source IN ('tags', 'default')),
  rescale_slope     DOUBLE PRECISION NOT NULL,
  rescale_intercept DOUBLE PRECISION NOT NULL,
  transfer_syntax   TEXT NOT NULL,
  file_sha256       TEXT NOT NULL,
  pixel_sha256      TEXT NOT NULL,
  hu_path           TEXT NOT NULL,
  source_path       TEXT NOT NULL,
  received_at       TEXT NOT NULL
);
CREATE INDEX instances_by_series ON instances(series_uid, slice_index);

CREATE TABLE quarantine (
  id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  path        TEXT NOT NULL,
  sha256      TEXT,
  reason      TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  resolved_at TEXT
);
CREATE INDEX quarantine_open ON quarantine(resolved_at, created_at);

CREATE TABLE files (
  path          TEXT NOT NULL,
  sha256        TEXT NOT NULL,
  size          BIGINT NOT NULL,
  outcome       TEXT NOT NULL CHECK (outcome IN ('stored', 'duplicate', 'quarantined', 'conflict')),
  instance_id   BIGINT REFERENCES instances(id),
  quarantine_id BIGINT REFERENCES quarantine(id),
  seen_at       TEXT NOT NULL,
  PRIMARY KEY (path, sha256)
);

CREATE TABLE conflicts (
  id                   BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  sop_uid              TEXT NOT NULL,
  existing_instance_id BIGINT NOT NULL REFERENCES instances(id),
  path                 TEXT NOT NULL,
  file_sha256          TEXT NOT NULL,
  pixel_sha256         TEXT NOT NULL,
  created_at           TEXT NOT NULL,
  UNIQUE (sop_uid, pixel_sha256)
);

CREATE TABLE predictions (
  instance_id   BIGINT NOT NULL REFERENCES instances(id),
  model_id      TEXT NOT NULL,
  model_version TEXT NOT NULL,
  provider      TEXT NOT NULL,
  p_any DOUBLE PRECISION NOT NULL, p_epidural DOUBLE PRECISION NOT NULL, p_intraparenchymal DOUBLE PRECISION NOT NULL,
  p_intraventricular DOUBLE PRECISION NOT NULL, p_subarachnoid DOUBLE PRECISION NOT NULL, p_subdural DOUBLE PRECISION NOT NULL,
  created_at    TEXT NOT NULL,
  PRIMARY KEY (instance_id, model_id)
);

CREATE TABLE study_scores (
  study_uid  TEXT NOT NULL REFERENCES studies(study_uid),
  model_id   TEXT NOT NULL,
  p_any DOUBLE PRECISION NOT NULL, p_epidural DOUBLE PRECISION NOT NULL, p_intraparenchymal DOUBLE PRECISION NOT NULL,
  p_intraventricular DOUBLE PRECISION NOT NULL, p_subarachnoid DOUBLE PRECISION NOT NULL, p_subdural DOUBLE PRECISION NOT NULL,
  key_slices TEXT NOT NULL DEFAULT '[]',
  computed_at TEXT NOT NULL,
  PRIMARY KEY (study_uid, model_id)
);
CREATE INDEX study_scores_rank ON study_scores(model_id, p_any DESC);

CREATE TABLE reviews (
  id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  study_uid  TEXT NOT NULL REFERENCES studies(study_uid),
  reviewer   TEXT NOT NULL,
  decision   TEXT NOT NULL CHECK (decision IN ('in_review', 'confirmed', 'dismissed', 'reopened')),
  subtypes   TEXT NOT NULL DEFAULT '[]',
  comment    TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
CREATE INDEX reviews_by_study ON reviews(study_uid, created_at);

CREATE TABLE audit_log (
  id      BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  at      TEXT NOT NULL,
  actor   TEXT NOT NULL,
  action  TEXT NOT NULL,
  subject TEXT,
  detail  TEXT NOT NULL DEFAULT '{}'
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION refuse_change('audit_log is append-only');
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION refuse_change('audit_log is append-only');
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('audit_log is append-only');

CREATE TABLE jobs (
  id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  kind        TEXT NOT NULL,
  key         TEXT NOT NULL,
  payload     TEXT NOT NULL DEFAULT '{}',
  state       TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT,
  not_before  TEXT,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  UNIQUE (kind, key)
);
CREATE INDEX jobs_ready ON jobs(state, kind, not_before);

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;
