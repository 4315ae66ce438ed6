/**
 * The loopback server: the same TriageApi as Electron's IPC, for the browser preview
 * and the tests. node:http only; bound to 127.0.0.1 and nothing else.
 *
 *   POST /api/<method>   JSON request → JSON response ({ error } with 4xx/5xx on failure)
 *   GET  /api/events     server-sent events: ApiEvent JSON per message
 *   GET  /*              the built renderer (dist/renderer), with a strict CSP
 *
 * Defences for a port any local process or web page could reach: the Host header must name the
 * loopback address (DNS rebinding), a POST must come from our own origin (CSRF from another tab)
 * and carry JSON, bodies are capped, and static paths cannot leave the renderer folder.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { ApiError, dispatch, EVENTS_PATH, isApiMethod, TOKEN_HEADER, type ApiEvent } from '../../shared/api.js';
import { errorReply, NotFound, ReviewConflict, SignInRequired, type TriageApiImpl } from '../api/index.js';

export const LOOPBACK = '127.0.0.1';
const MAX_BODY_BYTES = 1024 * 1024;

/** The renderer's Content-Security-Policy, also sent by the Electron shell. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** Content types of the renderer's static files, for both the loopback server and the Electron app:// scheme. */
export const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

export interface ServerOptions {
  api: TriageApiImpl;
  /** The built renderer; see ensureRendererBuilt(). */
  rendererDir: string;
  /** 0 picks a free port. */
  port?: number;
  log?: (message: string) => void;
  /** The per-launch API secret (default: 32 random bytes); tests may pass their own. */
  token?: string;
}

export interface RunningServer {
  /** The address to open, with the per-launch token (Jupyter-style): only who sees it gets in. */
  url: string;
  /** The per-launch secret every /api request carries (header X-Triage-Token, or ?token= for events). */
  token: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

function securityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('X-Frame-Options', 'DENY');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(text);
}

/** A request body over MAX_BODY_BYTES: answered 413 (HTTP's "Content Too Large"), not a reset. */
class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      reject(new BodyTooLarge(`request body of ${declared} bytes is over the ${MAX_BODY_BYTES}-byte limit`));
      req.resume(); // drain without keeping it, so the client reads the answer instead of a reset
      return;
    }
    let size = 0;
    let over = false;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (over) return;
      if (size > MAX_BODY_BYTES) {
        over = true;
        chunks.length = 0;
        reject(new BodyTooLarge(`request body is over the ${MAX_BODY_BYTES}-byte limit`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The HTTP status of a failed API call: the request's fault (4xx) or ours (500). */
function statusOf(e: Error): number {
  if (e instanceof BodyTooLarge) return 413;
  if (e instanceof SignInRequired) return 403;
  if (e instanceof ApiError) return 400;
  if (e instanceof NotFound) return 404;
  if (e instanceof ReviewConflict) return 409;
  return 500;
}

/** POST /api/<method>: same-origin JSON only, then the API's answer or its error with a status. */
async function answerApi(
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  allowedHosts: ReadonlySet<string>,
  opts: Pick<ServerOptions, 'api' | 'log'>,
): Promise<void> {
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST');
    sendJson(res, 405, { error: 'use POST', method });
    return;
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !allowedHosts.has(origin.replace(/^http:\/\//, ''))) {
    sendJson(res, 403, { error: 'cross-origin request refused', method });
    return;
  }
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
    sendJson(res, 415, { error: 'send application/json', method });
    return;
  }
  if (!isApiMethod(method)) {
    sendJson(res, 404, { error: `no API method ${method}`, method });
    return;
  }
  try {
    const text = await readBody(req);
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      throw new ApiError('request body is not JSON', method);
    }
    sendJson(res, 200, await dispatch(opts.api, method, body));
  } catch (err) {
    const e = err as Error;
    if (e instanceof BodyTooLarge) res.setHeader('Connection', 'close');
    const status = statusOf(e);
    if (status === 500) opts.log?.(`api ${method} failed: ${e.stack ?? e.message}`);
    sendJson(res, status, { ...errorReply(e), method });
  }
}

/** GET/HEAD of the built renderer's files; a path that would leave its folder is not found. */
function serveStatic(req: IncomingMessage, res: ServerResponse, url: URL, rendererDir: string): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { error: 'method not allowed' });
    return;
  }
  let rel: string;
  try {
    rel = decodeURIComponent(url.pathname);
  } catch {
    sendJson(res, 400, { error: 'bad path' });
    return;
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  const file = normalize(join(rendererDir, rel));
  if (!file.startsWith(rendererDir + sep) || !existsSync(file) || !statSync(file).isFile()) {
    sendJson(res, 404, { error: 'not found' });
    return;
  }
  res.writeHead(200, {
    'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
    // Hashed assets may be cached; index.html must not be (it names the current hashes).
    'Cache-Control': rel.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-store',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
}

/**
 * Server-sent events: every API event goes to every open /api/events stream, with a heartbeat so
 * that idle streams stay open.
 */
function eventStreams(api: TriageApiImpl) {
  const clients = new Set<ServerResponse>();
  const unsubscribe = api.onEvent((e: ApiEvent) => {
    const frame = `data: ${JSON.stringify(e)}\n\n`;
    for (const c of clients) c.write(frame);
  });
  const heartbeat = setInterval(() => {
    for (const c of clients) c.write(': keep-alive\n\n');
  }, 15_000);
  heartbeat.unref();
  return {
    open(req: IncomingMessage, res: ServerResponse): void {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      res.write(': connected\n\n');
      clients.add(res);
      req.on('close', () => clients.delete(res));
    },
    close(): void {
      unsubscribe();
      clearInterval(heartbeat);
      for (const c of clients) c.end();
      clients.clear();
    },
  };
}

/**
 * Whether a request carries the per-launch token (header X-Triage-Token, or ?token= where a header
 * cannot be set, as for EventSource), compared in constant time.
 */
function tokenCheck(token: string): (req: IncomingMessage, url: URL) => boolean {
  const tokenBytes = Buffer.from(token);
  return (req, url) => {
    const given = Buffer.from(String(req.headers[TOKEN_HEADER] ?? url.searchParams.get('token') ?? ''));
    return given.length === tokenBytes.length && timingSafeEqual(given, tokenBytes);
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, LOOPBACK, () => {
      server.off('error', fail);
      ok();
    });
  });
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const rendererDir = resolve(opts.rendererDir);
  let port = 0;
  const allowedHosts = () => new Set([`${LOOPBACK}:${port}`, `localhost:${port}`]);
  const events = eventStreams(opts.api);

  // Any process on the PC can reach 127.0.0.1; only whoever was shown the URL (or, in Electron, the
  // preload) holds this secret, so only they can read studies, record reviews or change settings.
  const token = opts.token ?? randomBytes(32).toString('base64url');
  const authorised = tokenCheck(token);

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    securityHeaders(res);
    if (!allowedHosts().has(req.headers.host ?? '')) {
      sendJson(res, 421, { error: 'this server answers only to 127.0.0.1' });
      return;
    }
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname.startsWith('/api/') && !authorised(req, url)) {
      sendJson(res, 401, { error: 'missing or wrong API token: open the address the server printed at start' });
      return;
    }
    if (url.pathname === EVENTS_PATH && req.method === 'GET') {
      events.open(req, res);
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      await answerApi(req, res, url.pathname.slice('/api/'.length), allowedHosts(), opts);
      return;
    }
    serveStatic(req, res, url, rendererDir);
  };

  const server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => {
      opts.log?.(`server error: ${(err as Error).message}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  await listen(server, opts.port ?? 0);
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${LOOPBACK}:${port}/?token=${token}`,
    token,
    port,
    server,
    close: async () => {
      events.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
