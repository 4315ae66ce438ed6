/**
 * The renderer's one door to the main process. In Electron the preload script exposes
 * `window.triage` (one function per API method, plus onEvent); in a browser preview or a test the
 * same API is served over loopback HTTP. Both are wrapped by makeClient(), which validates every
 * reply against the schemas in src/shared/api.ts (requests are validated where they are received,
 * by the implementation), so the rest of the renderer cannot tell which transport it has and never
 * draws a malformed reply. A failed call throws an ApiError, from either transport alike
 * (errorFromReply): a review refused for a conflict carries the decision that came first.
 */
import {
  ApiError,
  ApiEventSchema,
  API_METHODS,
  errorFromReply,
  EVENTS_PATH,
  httpPath,
  TOKEN_HEADER,
  makeClient,
  type ApiEvent,
  type ApiMethod,
  type Envelope,
  type TriageApi,
} from '../shared/api.js';

/** What the preload script exposes (src/preload/index.ts); replies are envelopes. */
export type TriageBridge = Record<ApiMethod, (request: unknown) => Promise<unknown>> & {
  onEvent(listener: (event: unknown) => void): () => void;
};

declare global {
  interface Window {
    triage?: TriageBridge;
  }
}

export interface TriageClient {
  api: TriageApi;
  onEvent(listener: (e: ApiEvent) => void): () => void;
  /** Whether the event stream is connected (shown as "live" in the status bar). */
  onConnection(listener: (connected: boolean) => void): () => void;
  transport: 'ipc' | 'http';
}


function unwrap(method: ApiMethod, reply: unknown): unknown {
  const r = reply as Envelope | undefined;
  if (!r || typeof r !== 'object' || !('ok' in r)) throw new ApiError(`malformed ${method} reply`, method);
  if (!r.ok) throw errorFromReply(method, r, `malformed ${method} reply`);
  return r.value;
}

function ipcClient(bridge: TriageBridge): TriageClient {
  const connection = new Set<(c: boolean) => void>();
  return {
    transport: 'ipc',
    api: makeClient(async (method, request) => unwrap(method, await bridge[method](request))),
    onEvent: (listener) =>
      bridge.onEvent((raw) => {
        const e = ApiEventSchema.safeParse(raw);
        if (e.success) listener(e.data);
      }),
    onConnection: (l) => {
      connection.add(l);
      l(true);
      return () => connection.delete(l);
    },
  };
}

const TOKEN_KEY = 'triage.token';

/**
 * The loopback server's per-launch secret: from the address the server printed (`?token=`), kept
 * for this tab only (sessionStorage, so a reload works and nothing outlives the tab) and taken out
 * of the address bar.
 */
function serverToken(): string {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
  return fromUrl ?? sessionStorage.getItem(TOKEN_KEY) ?? '';
}

function httpClient(): TriageClient {
  const listeners = new Set<(e: ApiEvent) => void>();
  const connection = new Set<(c: boolean) => void>();
  const token = serverToken();
  let source: EventSource | undefined;
  const ensureSource = () => {
    if (source) return;
    // EventSource cannot send headers: the secret travels as a query parameter on this one path.
    source = new EventSource(`${EVENTS_PATH}?token=${encodeURIComponent(token)}`);
    source.onopen = () => connection.forEach((l) => l(true));
    // EventSource reconnects by itself; the renderer refetches on reconnect via a synthetic event.
    source.onerror = () => connection.forEach((l) => l(false));
    source.onmessage = (m: MessageEvent<string>) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(m.data);
      } catch {
        return;
      }
      const e = ApiEventSchema.safeParse(parsed);
      if (e.success) listeners.forEach((l) => l(e.data));
    };
  };
  return {
    transport: 'http',
    api: makeClient(async (method, request) => {
      const res = await fetch(httpPath(method), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', [TOKEN_HEADER]: token },
        body: JSON.stringify(request),
      });
      const body: unknown = await res.json().catch(() => ({}));
      if (!res.ok) throw errorFromReply(method, body, `${method}: HTTP ${res.status}`);
      return body;
    }),
    onEvent: (listener) => {
      listeners.add(listener);
      ensureSource();
      return () => listeners.delete(listener);
    },
    onConnection: (l) => {
      connection.add(l);
      return () => connection.delete(l);
    },
  };
}

let client: TriageClient | undefined;

export function getClient(): TriageClient {
  client ??= window.triage && API_METHODS.every((m) => typeof window.triage?.[m] === 'function') ? ipcClient(window.triage) : httpClient();
  return client;
}
