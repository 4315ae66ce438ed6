/**
 * Said once before the tests run: whether the shared DICOM corpus is beside this checkout. Without
 * it (a fresh clone) the tests that read real public DICOM files are skipped, and the run says so
 * instead of passing quietly with less coverage.
 */
import { CORPUS, HAVE_CORPUS } from './helpers.js';

export default function corpusNotice(): void {
  process.stderr.write(
    HAVE_CORPUS
      ? `shared DICOM corpus found at ${CORPUS}: the tests that read it run.\n`
      : `shared DICOM corpus not found at ${CORPUS}: the tests that read real public DICOM files are SKIPPED ` +
          `(shown as skipped below); every other test makes its own phantom files and runs.\n`,
  );
}
