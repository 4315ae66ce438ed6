/**
 * A file the core refuses. `reason` is the one line a radiologist or site admin reads in
 * `triage quarantine` and on the screen; it never holds a stack trace.
 */
export class QuarantineError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'QuarantineError';
  }
}
