/**
 * This PC's start configuration: the database it uses (and, for a shared PostgreSQL database, the
 * folder the workstations share for HU copies), saved in Settings for its next start in
 * `<data folder>/workstation.json`. Never in the database itself: the database cannot hold its own
 * address, and the file must be read before any store opens.
 *
 * Precedence at start, strongest first: the command line (`--database`), the environment
 * (TRIAGE_DATABASE), this file, SQLite in the data folder. The shared folder goes with the
 * database the file names, unless `--shared-dir`/TRIAGE_SHARED_DIR names one.
 *
 * A PostgreSQL URL may carry a password: the file is written atomically (a temporary file renamed
 * over it, so a crash leaves the old file or the new one, never half of one) and readable by its
 * owner only (0600). A file that cannot be read or is not valid stops the start with its name
 * and the reason: quietly falling back to the local SQLite database would split the worklist.
 */
import { closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { DatabaseChoiceSchema, type DatabaseSource } from '../shared/api.js';
import { checkPostgresUrl } from './store/index.js';

export const START_CONFIG_FILE = 'workstation.json';

const StartConfigSchema = z.object({
  /** `sqlite`, or a PostgreSQL URL. */
  database: DatabaseChoiceSchema,
  sharedDir: z.string().min(1).nullable().default(null),
  /** Who saved it and when (the audit log has the same, in the database that was in use). */
  savedBy: z.string().optional(),
  savedAt: z.string().optional(),
});
export type StartConfig = z.infer<typeof StartConfigSchema>;

/** A start configuration that cannot be used: the message names the file and the reason. */
export class StartConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartConfigError';
  }
}

export function startConfigPath(dataDir: string): string {
  return join(resolve(dataDir), START_CONFIG_FILE);
}

/**
 * The saved start configuration, or null when none was saved. Throws StartConfigError for a file
 * that is there but unreadable or not valid; the message never carries the file's text, which may
 * hold a password.
 */
export function readStartConfig(dataDir: string): StartConfig | null {
  const file = startConfigPath(dataDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return null;
    throw new StartConfigError(`start configuration ${file} cannot be read (${e.code ?? e.message}): make it readable by the user the workstation runs as, or remove it to use SQLite in the data folder`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the text: it is left out.
    throw new StartConfigError(`start configuration ${file} is not valid JSON: save the database again in Settings, or remove the file to use SQLite in the data folder`);
  }
  const parsed = StartConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new StartConfigError(`start configuration ${file} is not valid (${why}): save the database again in Settings, or remove the file`);
  }
  const config = parsed.data;
  if (config.database !== 'sqlite') {
    try {
      checkPostgresUrl(config.database);
    } catch (err) {
      throw new StartConfigError(`start configuration ${file}: ${(err as Error).message}`);
    }
  }
  return config;
}

/** Saves the start configuration: a temporary file, owner-only, flushed, then renamed over the old one. */
export function writeStartConfig(dataDir: string, config: StartConfig): void {
  const file = startConfigPath(dataDir);
  mkdirSync(resolve(dataDir), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  let opened = false;
  try {
    // 0600 at creation (the password is never readable by others, not even for a moment), and
    // again in case a temporary file of a crashed save was left with other bits.
    const fd = openSync(temp, 'w', 0o600);
    opened = true;
    try {
      fchmodSync(fd, 0o600);
      writeSync(fd, `${JSON.stringify(config, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (err) {
    // Only what this save made is removed: a path it could not open is someone else's.
    if (opened) rmSync(temp, { force: true });
    throw new StartConfigError(`start configuration ${file} cannot be written: ${(err as Error).message}`);
  }
  try {
    // The rename itself is durable once the folder is flushed (not possible on every platform).
    const dir = openSync(resolve(dataDir), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Windows cannot open a folder for flushing; the rename is still atomic there.
  }
}

/** The database named at start by the command line or the environment, and which of them. */
export interface DatabaseGiven {
  value: string;
  from: 'command line' | 'TRIAGE_DATABASE';
}

/** What a start uses: the database (absent: SQLite in the data folder), the shared folder, and what chose them. */
export interface StartChoice {
  database: string | undefined;
  sharedDir: string | undefined;
  source: DatabaseSource;
}

/**
 * The database and shared folder a start uses (the precedence above). The file is read only when
 * neither the command line nor the environment names a database: what overrides it cannot be
 * stopped by it.
 */
export function chooseStart(dataDir: string, given: { database?: DatabaseGiven | undefined; sharedDir?: string | undefined }): StartChoice {
  if (given.database?.value) return { database: given.database.value, sharedDir: given.sharedDir, source: given.database.from };
  const saved = readStartConfig(dataDir);
  if (saved) {
    return { database: saved.database === 'sqlite' ? undefined : saved.database, sharedDir: given.sharedDir ?? saved.sharedDir ?? undefined, source: 'Settings' };
  }
  return { database: undefined, sharedDir: given.sharedDir, source: 'default' };
}

/** The database named by the environment (TRIAGE_DATABASE), as a start's given; an empty value is none. */
export function databaseFromEnvironment(): DatabaseGiven | undefined {
  const value = process.env.TRIAGE_DATABASE;
  return value ? { value, from: 'TRIAGE_DATABASE' } : undefined;
}

/**
 * The start of a `triage` command: `--database` or TRIAGE_DATABASE (commander records which gave
 * the value), `--shared-dir`/TRIAGE_SHARED_DIR, then chooseStart.
 */
export function startChoiceOf(cmd: Command, dataDir: string): StartChoice {
  const { database, sharedDir } = cmd.optsWithGlobals<{ database?: string; sharedDir?: string }>();
  const from = cmd.getOptionValueSourceWithGlobals('database') === 'env' ? 'TRIAGE_DATABASE' : 'command line';
  return chooseStart(dataDir, { database: database ? { value: database, from } : undefined, sharedDir });
}
