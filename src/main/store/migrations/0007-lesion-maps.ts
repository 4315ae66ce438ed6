/**
 * 0007: what a localisation network draws. Per slice and network, its map of each subtype (the
 * probability of each map pixel, ×255 as one byte, channel by row by column, deflated: most of a
 * slice is background, so a 5×128×128 map of 80 KB keeps a few KB). Per study and network, the
 * bleed-volume estimate summed from those maps, from the series it was measured on.
 */
export const up = `
CREATE TABLE lesion_maps (
  instance_id INTEGER NOT NULL REFERENCES instances(id),
  model_id    TEXT NOT NULL,
  model_sha256 TEXT,
  channels    INTEGER NOT NULL,
  height      INTEGER NOT NULL,
  width       INTEGER NOT NULL,
  map         BLOB NOT NULL,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (instance_id, model_id)
);

CREATE TABLE study_volumes (
  study_uid   TEXT NOT NULL REFERENCES studies(study_uid),
  model_id    TEXT NOT NULL,
  series_uid  TEXT NOT NULL,
  total_ml    REAL NOT NULL,
  subtypes    TEXT NOT NULL, -- JSON: {subtype: mL}
  slices      INTEGER NOT NULL,
  provisional INTEGER NOT NULL DEFAULT 0,
  computed_at TEXT NOT NULL,
  PRIMARY KEY (study_uid, model_id)
);
`;

/** The same in PostgreSQL's words: bytea for BLOB, DOUBLE PRECISION for REAL, BIGINT instance ids. */
export const upPostgres = `
CREATE TABLE lesion_maps (
  instance_id BIGINT NOT NULL REFERENCES instances(id),
  model_id    TEXT NOT NULL,
  model_sha256 TEXT,
  channels    INTEGER NOT NULL,
  height      INTEGER NOT NULL,
  width       INTEGER NOT NULL,
  map         BYTEA NOT NULL,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (instance_id, model_id)
);

CREATE TABLE study_volumes (
  study_uid   TEXT NOT NULL REFERENCES studies(study_uid),
  model_id    TEXT NOT NULL,
  series_uid  TEXT NOT NULL,
  total_ml    DOUBLE PRECISION NOT NULL,
  subtypes    TEXT NOT NULL,
  slices      INTEGER NOT NULL,
  provisional INTEGER NOT NULL DEFAULT 0,
  computed_at TEXT NOT NULL,
  PRIMARY KEY (study_uid, model_id)
);
`;
