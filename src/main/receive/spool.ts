/**
 * One received instance on its way to disk. Input: the file meta fields, then the data set bytes
 * in order. Output: a durable Part 10 file at `<spoolDir>/<SOP Instance UID>.dcm`, or nothing.
 *
 * The name comes from the Affected SOP Instance UID as dcmjs-dimse parses it, which drops every
 * character but digits and dots: RSNA-style `ID_<hex>` identifiers arrive shortened and can
 * collide. The ingest reads the real UID from the file; the name only has to be unique.
 *
 * Never overwrites: a second instance with the same SOP Instance UID and other bytes (a conflict
 * the ingest records) keeps its own file, `<UID>.1.dcm`, `<UID>.2.dcm`, …, and the first stays
 * what the database's hash says it is. The same bytes sent again are the same file.
 *
 * Durability before the C-STORE success (PS3.4 B.2.3 lets the SCU delete its copy once we say
 * success): write to a temp name, fsync the file, rename, fsync the directory. A peer that drops
 * mid-transfer leaves no file behind: `abort()` removes the temp file. Writes are synchronous on
 * purpose — dcmjs-dimse feeds PDVs from concurrent async handlers and only awaits 'drain' on the
 * first write, so a Writable that ever reports back-pressure could see PDVs out of order; a
 * synchronous append keeps order by construction and costs microseconds per PDU.
 */
import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { link, open, readFile, unlink } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileMetaHeader, type FileMetaFields } from './part10.js';

export const TEMP_SUFFIX = '.part';

export class SpoolFile {
  /** Where the instance lands unless that name holds other bytes already (then `<UID>.<n>.dcm`). */
  readonly preferredPath: string;
  private readonly tempPath: string;
  private readonly sopInstanceUid: string;
  private fd: number | undefined;
  private failure: Error | undefined;
  private state: 'writing' | 'committed' | 'aborted' = 'writing';
  readonly writable: Writable;

  constructor(
    private readonly dir: string,
    meta: FileMetaFields,
  ) {
    // The SOP Instance UID was checked against PS3.5 §9.1 (digits and dots): safe as a file name.
    this.sopInstanceUid = meta.sopInstanceUid;
    this.preferredPath = join(dir, `${meta.sopInstanceUid}.dcm`);
    this.tempPath = join(dir, `.${meta.sopInstanceUid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
    try {
      this.fd = openSync(this.tempPath, 'wx', 0o600);
      this.append(fileMetaHeader(meta));
    } catch (e) {
      this.fail(e);
    }
    const append = (chunk: Buffer): void => this.append(chunk);
    this.writable = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        append(chunk);
        // Never an error on the stream: dcmjs-dimse has no 'error' listener on it, and a write
        // failure is answered as a C-STORE failure status instead (see commit()).
        callback();
      },
    });
  }

  get error(): Error | undefined {
    return this.failure;
  }

  private append(chunk: Uint8Array): void {
    if (this.failure || this.fd === undefined) return;
    try {
      let off = 0;
      while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off);
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    this.failure ??= e instanceof Error ? e : new Error(String(e));
  }

  /** Makes the file durable under its final name; throws (and leaves nothing) if it cannot. */
  async commit(): Promise<string> {
    if (this.state !== 'writing') throw new Error(`spool file already ${this.state}`);
    if (!this.writable.writableFinished) {
      await new Promise<void>((resolve) => {
        this.writable.once('finish', resolve);
        this.writable.once('close', resolve);
        if (!this.writable.writableEnded) this.writable.end();
      });
    }
    try {
      if (this.failure) throw this.failure;
      fsyncSync(this.fd!);
      closeSync(this.fd!);
      this.fd = undefined;
      const finalPath = await this.placeWithoutOverwrite();
      await fsyncDir(this.dir);
      this.state = 'committed';
      return finalPath;
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  /**
   * Gives the temp file its final name with link(2), which fails rather than replace an existing
   * name (rename would silently overwrite a received original). Identical bytes already there:
   * that file is the instance, and the temp file goes.
   */
  private async placeWithoutOverwrite(): Promise<string> {
    let mine: string | undefined;
    for (let n = 0; n < 1000; n++) {
      const candidate = n === 0 ? this.preferredPath : join(this.dir, `${this.sopInstanceUid}.${n}.dcm`);
      try {
        await link(this.tempPath, candidate);
        await unlink(this.tempPath);
        return candidate;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      mine ??= sha256(await readFile(this.tempPath));
      if (sha256(await readFile(candidate)) === mine) {
        await unlink(this.tempPath);
        return candidate;
      }
    }
    throw new Error(`1000 different instances with SOP Instance UID ${this.sopInstanceUid} in ${this.dir}`);
  }

  /** Drops a partial instance: closes and removes the temp file. Safe to call more than once. */
  abort(): void {
    if (this.state !== 'writing') return;
    this.state = 'aborted';
    if (!this.writable.destroyed) this.writable.destroy();
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // Already closed.
      }
      this.fd = undefined;
    }
    try {
      unlinkSync(this.tempPath);
    } catch {
      // Never created, or already gone.
    }
  }
}

/** A rename is durable only once its directory entry is on disk (POSIX). Windows has no dir fsync. */
async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
