/**
 * DicomReceiver: the TCP listener. Binds where it is told (127.0.0.1 unless configured), starts a
 * StoreScp per connection, and on stop() stops listening, lets stores in flight finish (bounded),
 * then closes the remaining connections.
 *
 * dcmjs-dimse's own Server listens on every interface with no host option, so the listener is
 * ours (net.Server) and only the per-connection Scp is the library's.
 */
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import dimse from 'dcmjs-dimse';
import { StoreScp, type AssociationEnd, type InstanceInfo, type ScpContext } from './scp.js';
import { TEMP_SUFFIX } from './spool.js';
import { storageTransferSyntaxes } from './syntaxes.js';

export interface ReceiverOptions {
  port: number;
  /** Interface to bind. Default 127.0.0.1: listening on the network is an explicit choice. */
  host?: string;
  aeTitle: string;
  /** Calling AE titles allowed to associate; empty allows any. */
  allowedCallingAeTitles: string[];
  spoolDir: string;
  onInstance: (filePath: string, info: InstanceInfo) => Promise<void>;
  /**
   * Once per accepted association, after every store it carried has been answered: whether the
   * sender released it (it has sent what it meant to send) or it was aborted or dropped.
   */
  onAssociationEnd?: (end: AssociationEnd) => void;
  log?: (msg: string) => void;
}

export interface ReceiverStats {
  /** Associations accepted. */
  associations: number;
  /** Instances written durably and taken by onInstance (answered 0x0000). */
  stored: number;
  /** Associations rejected (AE title not recognised). */
  rejected: number;
  /** C-STOREs answered with a failure status. */
  failed: number;
}

/** Concurrent connections. When all are taken, the oldest that has not associated yet makes room. */
const MAX_CONNECTIONS = 32;
/**
 * Connections one peer address may hold before it has associated: a modality opens one or two,
 * so a peer holding more is stalling; its oldest idle connection is closed for the new one.
 * Together with the eviction above, idle sockets (from one address or many) never lock a sender out.
 */
const MAX_UNASSOCIATED_PER_PEER = 4;
/** PS3.8 9.1.5 ARTIM: how long a connection may stay without an A-ASSOCIATE-RQ. */
const ASSOCIATION_REQUEST_TIMEOUT_MS = 10_000;
/** How long stop() waits for stores in flight before closing connections. */
const STOP_GRACE_MS = 10_000;

const AE_TITLE = /^[\x20-\x5b\x5d-\x7e]{1,16}$/; // PS3.5 §6.2 AE: ≤ 16 chars, no backslash or controls

// dcmjs-dimse logs every PDU at info level to the console through loglevel. Keep warnings and
// errors, routed to the receivers' own log functions, and drop the rest.
const sinks = new Set<(msg: string) => void>();
let loggerRouted = false;
function routeLibraryLog(): void {
  if (loggerRouted) return;
  loggerRouted = true;
  const log = dimse.log;
  log.methodFactory = (methodName) => (...args: unknown[]) => {
    const text = `dcmjs-dimse ${methodName}: ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`;
    for (const sink of sinks) sink(text);
  };
  log.setLevel('warn');
}

export class DicomReceiver {
  private readonly opts: Required<Omit<ReceiverOptions, 'log' | 'onAssociationEnd'>> & Pick<ReceiverOptions, 'onAssociationEnd'> & { log: (msg: string) => void };
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Connections without an accepted association yet, oldest first (Map keeps insertion order). */
  private readonly unassociated = new Map<Socket, { peer: string; at: number }>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly counters: ReceiverStats = { associations: 0, stored: 0, rejected: 0, failed: 0 };
  private associationsNumbered = 0;

  constructor(opts: ReceiverOptions) {
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new RangeError(`invalid port ${opts.port}`);
    const aeTitle = opts.aeTitle.trim();
    if (!AE_TITLE.test(aeTitle)) throw new RangeError(`invalid AE title "${opts.aeTitle}"`);
    this.opts = {
      port: opts.port,
      host: opts.host ?? '127.0.0.1',
      aeTitle,
      allowedCallingAeTitles: opts.allowedCallingAeTitles.map((t) => t.trim()).filter((t) => t.length > 0),
      spoolDir: opts.spoolDir,
      onInstance: opts.onInstance,
      onAssociationEnd: opts.onAssociationEnd,
      log: opts.log ?? (() => undefined),
    };
  }

  get stats(): ReceiverStats {
    return { ...this.counters };
  }

  /** Where it listens once started (the real port when `port` was 0). */
  get address(): { host: string; port: number } {
    const address = this.server?.address();
    return address && typeof address === 'object'
      ? { host: address.address, port: address.port }
      : { host: this.opts.host, port: this.opts.port };
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address.port : this.opts.port;
  }

  async start(): Promise<void> {
    if (this.server) throw new Error('receiver already started');
    mkdirSync(this.opts.spoolDir, { recursive: true });
    this.removeStaleTempFiles();
    routeLibraryLog();
    sinks.add(this.opts.log);
    const ctx: ScpContext = {
      aeTitle: this.opts.aeTitle,
      allowedCallingAeTitles: this.opts.allowedCallingAeTitles,
      spoolDir: this.opts.spoolDir,
      transferSyntaxes: storageTransferSyntaxes(),
      onInstance: this.opts.onInstance,
      onAssociationEnd: this.opts.onAssociationEnd,
      nextAssociation: () => ++this.associationsNumbered,
      log: this.opts.log,
      counters: this.counters,
      track: (p) => {
        this.inFlight.add(p);
        void p.finally(() => this.inFlight.delete(p));
      },
      associated: (peer) => this.unassociated.delete(peer),
    };
    const server = createServer((socket) => this.accept(socket, ctx));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.opts.log(`receiver: ${e.message}`));
    this.server = server;
    this.opts.log(`DICOM receiver "${this.opts.aeTitle}" listening on ${this.opts.host}:${this.port}`);
  }

  private evict(victim: Socket, why: string): void {
    this.opts.log(`closing a connection from ${this.unassociated.get(victim)?.peer ?? '?'} that never associated: ${why}`);
    this.unassociated.delete(victim);
    this.sockets.delete(victim);
    victim.destroy();
  }

  /**
   * Whether a new connection from `peer` may be served, making room first: the newest connection
   * wins over stalled ones (a sender that reconnects gets in; a flood only churns itself).
   */
  private admit(peer: string): boolean {
    const fromPeer = [...this.unassociated].filter(([, u]) => u.peer === peer);
    if (fromPeer.length >= MAX_UNASSOCIATED_PER_PEER) {
      this.evict(fromPeer[0]![0], `${peer} holds ${fromPeer.length} connections without an association`);
    }
    if (this.sockets.size >= MAX_CONNECTIONS) {
      const oldest = this.unassociated.keys().next();
      if (oldest.done) {
        this.opts.log(`connection from ${peer} refused: all ${MAX_CONNECTIONS} connections are in associations`);
        return false;
      }
      this.evict(oldest.value, `all ${MAX_CONNECTIONS} connections taken, admitting ${peer}`);
    }
    return true;
  }

  private accept(socket: Socket, ctx: ScpContext): void {
    socket.on('error', () => undefined); // reported through the Scp's networkError
    const peer = socket.remoteAddress ?? '?';
    if (!this.admit(peer)) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    this.unassociated.set(socket, { peer, at: Date.now() });
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.unassociated.delete(socket);
    });
    try {
      const scp = new StoreScp(
        socket,
        { associationTimeout: ASSOCIATION_REQUEST_TIMEOUT_MS, pduTimeout: 120_000, connectTimeout: 180_000 },
        ctx,
      );
      // The library's Server marks a server-side socket connected itself (no 'connect' event
      // fires for it); setting connectedTime as well arms the association timeout, which
      // otherwise never fires server-side and would let an idle connection hold a slot forever.
      Object.assign(scp, { connected: true, connectedTime: Date.now() });
      // What dcmjs-dimse's Server does on a network error: end the connection. The Scp's 'close'
      // handler then discards any partial instance.
      scp.on('networkError', (e: unknown) => {
        this.opts.log(`connection from ${socket.remoteAddress ?? '?'}: ${e instanceof Error ? e.message : String(e)}`);
        socket.destroy();
      });
    } catch (e) {
      this.opts.log(`could not start an association handler: ${e instanceof Error ? e.message : String(e)}`);
      socket.destroy();
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const deadline = Date.now() + STOP_GRACE_MS;
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, deadline - Date.now()))]);
    }
    for (const socket of this.sockets) socket.destroy();
    await closed;
    sinks.delete(this.opts.log);
    this.opts.log('DICOM receiver stopped');
  }

  /** Temp files of instances that were never finished (the app died mid-transfer). */
  private removeStaleTempFiles(): void {
    for (const name of readdirSync(this.opts.spoolDir)) {
      if (name.startsWith('.') && name.endsWith(TEMP_SUFFIX)) {
        try {
          unlinkSync(join(this.opts.spoolDir, name));
        } catch {
          // Another process may have removed it.
        }
      }
    }
  }
}
