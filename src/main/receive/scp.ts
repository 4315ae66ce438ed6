/**
 * One association (one TCP connection), as a dcmjs-dimse Scp. Answers C-ECHO; answers C-STORE of
 * CT after the instance is durable in the spool and `onInstance` has taken it.
 *
 * The data set is streamed straight to the spool file (createStoreWritableStream) in the
 * negotiated transfer syntax, never parsed into dcmjs objects and written back: what lands on
 * disk is byte for byte what the modality sent, after our file meta header.
 */
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import dimse from 'dcmjs-dimse';
import { INSTANCE_UID_RULE, isAcceptableInstanceUid } from '../dicom/index.js';
import { SpoolFile } from './spool.js';
import { IMPLICIT_VR_LITTLE_ENDIAN, STORAGE_SOP_CLASSES, VERIFICATION_SOP_CLASS } from './syntaxes.js';

const { Scp, Dataset } = dimse;
const { CEchoResponse, CStoreResponse } = dimse.responses;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason, Status } = dimse.constants;

type Association = InstanceType<typeof dimse.association.Association>;
type PresentationContext = InstanceType<typeof dimse.association.PresentationContext>;
type CStoreRequest = InstanceType<typeof dimse.requests.CStoreRequest>;
type CEchoRequest = InstanceType<typeof dimse.requests.CEchoRequest>;
type CStoreResponseT = InstanceType<typeof dimse.responses.CStoreResponse>;
type CEchoResponseT = InstanceType<typeof dimse.responses.CEchoResponse>;
type DatasetT = InstanceType<typeof dimse.Dataset>;

/** C-STORE statuses (PS3.4 Table B.2-1). */
export const STATUS = {
  success: 0x0000,
  refusedOutOfResources: 0xa700,
  refusedSopClassNotSupported: 0x0122,
  dataSetDoesNotMatchSopClass: 0xa900,
  cannotUnderstand: 0xc000,
} as const;

/**
 * Thrown by `onInstance` when the instance was kept (quarantine or conflict list) but will not be
 * used: the sender must hear a failure, with the reason in the response's Error Comment
 * (0000,0902), so that it keeps its copy and its operator sees why (PS3.4 B.2.3: a success lets
 * the sender delete its copy).
 */
export class StoreRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** Error Comment is LO: at most 64 characters, no backslash or control characters (PS3.5 6.2). */
export function errorComment(reason: string): string {
  const clean = reason.replace(/[\\\x00-\x1f\x7f]/g, ' ').trim();
  return clean.length <= 64 ? clean : `${clean.slice(0, 61)}...`;
}

/** Which association an instance came in (numbered from 1 per receiver, in the order accepted). */
export interface InstanceInfo {
  callingAeTitle: string;
  sopInstanceUid: string;
  association: number;
}

/** How an accepted association ended: `released` when the sender asked for A-RELEASE (it has sent what it meant to). */
export interface AssociationEnd {
  association: number;
  callingAeTitle: string;
  released: boolean;
}

export interface ScpContext {
  aeTitle: string;
  allowedCallingAeTitles: readonly string[];
  spoolDir: string;
  transferSyntaxes: ReadonlySet<string>;
  onInstance: (filePath: string, info: InstanceInfo) => Promise<void>;
  /**
   * Once per accepted association, after every store it carried has been answered: released by
   * the sender, or aborted/dropped.
   */
  onAssociationEnd?: (end: AssociationEnd) => void;
  /** The number the next accepted association gets. */
  nextAssociation: () => number;
  log: (msg: string) => void;
  counters: { associations: number; stored: number; rejected: number; failed: number };
  /** Lets stop() wait for stores in flight. */
  track: (p: Promise<unknown>) => void;
  /** Called once a connection's association is accepted (it then holds a working slot). */
  associated?: (peer: Socket) => void;
}

type Outcome = { path: string } | { status: number; reason: string };

export class StoreScp extends Scp {
  private callingAeTitle = '';
  /** This connection's association number once accepted; 0 before. (`association` is the library's own field.) */
  private associationNumber = 0;
  private ended = false;
  /** Stores of this association not yet answered. */
  private readonly storing = new Set<Promise<unknown>>();
  private current: SpoolFile | undefined;
  private readonly spools = new WeakMap<Writable, { spool?: SpoolFile; request: CStoreRequest; refusal?: Outcome }>();
  private readonly outcomes = new WeakMap<CStoreRequest, Promise<Outcome>>();

  constructor(
    private readonly peer: Socket,
    opts: ConstructorParameters<typeof Scp>[1],
    private readonly ctx: ScpContext,
  ) {
    super(peer, opts);
    // A dropped peer (close, abort, timeout) must not leave a half-written temp file.
    this.on('close', () => {
      this.dropPartial('connection closed');
      this.end(false);
    });
  }

  override associationRequested(association: Association): void {
    const calling = association.getCallingAeTitle().trim();
    const called = association.getCalledAeTitle().trim();
    this.callingAeTitle = calling;
    const { allowedCallingAeTitles, aeTitle } = this.ctx;
    // PS3.8 9.3.4: reject with source "service user", reason 3 (calling AE title not recognised)
    // or 7 (called AE title not recognised); permanent, so the SCU does not retry blindly.
    if (allowedCallingAeTitles.length > 0 && !allowedCallingAeTitles.includes(calling)) {
      this.ctx.counters.rejected++;
      this.ctx.log(`association from "${calling}" rejected: calling AE title not in the allow-list`);
      this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized);
      this.closeAfterReject();
      return;
    }
    if (called !== aeTitle) {
      this.ctx.counters.rejected++;
      this.ctx.log(`association from "${calling}" rejected: called AE title "${called}" is not "${aeTitle}"`);
      this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized);
      this.closeAfterReject();
      return;
    }
    for (const { context } of association.getPresentationContexts()) this.negotiate(context);
    this.ctx.counters.associations++;
    this.associationNumber = this.ctx.nextAssociation();
    this.ctx.log(`association from "${calling}" accepted`);
    this.ctx.associated?.(this.peer);
    this.sendAssociationAccept();
  }

  /**
   * After an A-ASSOCIATE-RJ the requestor closes the connection (PS3.8 9.3.4); if it does not,
   * close it ourselves once the ARTIM timer would have run out (PS3.8 9.1.5), so a rejected peer
   * cannot hold a connection slot.
   */
  private closeAfterReject(): void {
    const timer = setTimeout(() => this.peer.destroy(), 5_000);
    timer.unref();
    this.peer.once('close', () => clearTimeout(timer));
  }

  /**
   * Take the first transfer syntax the SCU proposed that we accept (the SCU lists its preference
   * first, usually the file's own syntax), so the instance arrives as the modality encoded it.
   */
  private negotiate(context: PresentationContext): void {
    const abstract = context.getAbstractSyntaxUid();
    const proposed = context.getTransferSyntaxUids();
    if (abstract === VERIFICATION_SOP_CLASS) {
      // Every SCU must offer Implicit VR Little Endian (PS3.5 §10.1).
      const ts = proposed.find((t) => t === IMPLICIT_VR_LITTLE_ENDIAN || t === '1.2.840.10008.1.2.1');
      if (ts) context.setResult(PresentationContextResult.Accept, ts);
      else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
      return;
    }
    if (!STORAGE_SOP_CLASSES.has(abstract)) {
      context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
      return;
    }
    const ts = proposed.find((t) => this.ctx.transferSyntaxes.has(t));
    if (ts) context.setResult(PresentationContextResult.Accept, ts);
    else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
  }

  override associationReleaseRequested(): void {
    this.sendAssociationReleaseResponse();
    this.end(true);
  }

  /** Reports the association's end once, after the stores it carried are answered. */
  private end(released: boolean): void {
    if (this.ended || this.associationNumber === 0) return;
    this.ended = true;
    const end: AssociationEnd = { association: this.associationNumber, callingAeTitle: this.callingAeTitle, released };
    void Promise.allSettled([...this.storing]).then(() => this.ctx.onAssociationEnd?.(end));
  }

  override abort(source: number, reason: number): void {
    this.ctx.log(`association from "${this.callingAeTitle}" aborted by the peer (source ${source}, reason ${reason})`);
    this.dropPartial('peer aborted');
  }

  override cEchoRequest(request: CEchoRequest, callback: (response: CEchoResponseT) => void): void {
    const response = CEchoResponse.fromRequest(request);
    response.setStatus(Status.Success);
    callback(response);
  }

  override createStoreWritableStream(context: PresentationContext, request: CStoreRequest): Writable {
    const sopClassUid = request.getAffectedSopClassUid();
    const sopInstanceUid = request.getAffectedSopInstanceUid();
    const transferSyntaxUid = context.getAcceptedTransferSyntaxUid() ?? '';
    let refusal: Outcome | undefined;
    // PS3.7 9.1.1.1: the Affected SOP Class must be the context's abstract syntax.
    if (sopClassUid !== context.getAbstractSyntaxUid() || !STORAGE_SOP_CLASSES.has(sopClassUid)) {
      refusal = { status: STATUS.refusedSopClassNotSupported, reason: `SOP class ${sopClassUid} not accepted on this context` };
    } else if (!isAcceptableInstanceUid(sopInstanceUid)) {
      refusal = { status: STATUS.cannotUnderstand, reason: `Affected SOP Instance UID is not ${INSTANCE_UID_RULE}` };
    }
    if (refusal) {
      // Read and discard the data set; the C-STORE is answered with the refusal.
      const sink = new Writable({ write: (_chunk, _encoding, cb) => cb() });
      this.spools.set(sink, { request, refusal });
      return sink;
    }
    this.dropPartial('a new C-STORE began before the previous one finished');
    const spool = new SpoolFile(this.ctx.spoolDir, { sopClassUid, sopInstanceUid, transferSyntaxUid, sourceAeTitle: this.callingAeTitle });
    this.current = spool;
    this.spools.set(spool.writable, { spool, request });
    return spool.writable;
  }

  override createDatasetFromStoreWritableStream(writable: Writable, context: PresentationContext, callback: (dataset: DatasetT) => void): void {
    const entry = this.spools.get(writable);
    const done = (outcome: Outcome): void => {
      if (entry) this.outcomes.set(entry.request, Promise.resolve(outcome));
      // The Scp needs a Dataset to hand to cStoreRequest; ours is empty, the bytes are on disk.
      callback(new Dataset({}, context.getAcceptedTransferSyntaxUid()));
    };
    if (!entry) {
      done({ status: STATUS.cannotUnderstand, reason: 'no spool for this data set' });
      return;
    }
    if (entry.refusal || !entry.spool) {
      writable.end();
      done(entry.refusal ?? { status: STATUS.cannotUnderstand, reason: 'no spool for this data set' });
      return;
    }
    const spool = entry.spool;
    // Complete now: a connection that drops while it is being made durable keeps it.
    if (this.current === spool) this.current = undefined;
    const committing = spool.commit().then(
      (path): Outcome => ({ path }),
      (e: unknown): Outcome => ({
        status: STATUS.refusedOutOfResources,
        reason: `could not write the instance to the spool: ${e instanceof Error ? e.message : String(e)}`,
      }),
    );
    this.ctx.track(committing);
    void committing.then(done);
  }

  override cStoreRequest(request: CStoreRequest, callback: (response: CStoreResponseT) => void): void {
    const work = this.store(request).then(({ status, comment }) => {
      const response = CStoreResponse.fromRequest(request);
      response.setStatus(status);
      if (comment) response.getCommandDataset().setElement('ErrorComment', errorComment(comment));
      callback(response);
    });
    this.ctx.track(work);
    this.storing.add(work);
    void work.finally(() => this.storing.delete(work));
  }

  private async store(request: CStoreRequest): Promise<{ status: number; comment?: string }> {
    const sopInstanceUid = request.getAffectedSopInstanceUid();
    const outcome = (await this.outcomes.get(request)) ?? { status: STATUS.cannotUnderstand, reason: 'data set missing' };
    if (!('path' in outcome)) {
      this.ctx.counters.failed++;
      this.ctx.log(`C-STORE ${sopInstanceUid} from "${this.callingAeTitle}" refused (0x${outcome.status.toString(16)}): ${outcome.reason}`);
      return { status: outcome.status, comment: outcome.reason };
    }
    try {
      await this.ctx.onInstance(outcome.path, { callingAeTitle: this.callingAeTitle, sopInstanceUid, association: this.associationNumber });
      this.ctx.counters.stored++;
      return { status: STATUS.success };
    } catch (e) {
      // The file stays (spool, quarantine or conflict list: nothing received is lost); the SCU
      // is told we will not use it, so that it keeps its copy.
      this.ctx.counters.failed++;
      const refused = e instanceof StoreRefusedError;
      const reason = e instanceof Error ? e.message : String(e);
      this.ctx.log(`C-STORE ${sopInstanceUid} from "${this.callingAeTitle}": ${refused ? 'refused' : 'ingest failed'}: ${reason}`);
      return { status: refused ? e.status : STATUS.cannotUnderstand, comment: reason };
    }
  }

  private dropPartial(why: string): void {
    const spool = this.current;
    if (!spool) return;
    this.current = undefined;
    spool.abort();
    this.ctx.log(`partial instance from "${this.callingAeTitle}" discarded: ${why}`);
  }
}
