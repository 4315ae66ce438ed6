/**
 * The Electron wiring under Node: every TriageApi method has exactly one IPC handler in main and
 * one preload function, on channels derived from the same list; messages from an untrusted sender
 * are refused; requests are validated; events reach the page. The `electron` module is replaced
 * by a minimal fake in this one test (no Electron binary can be installed here).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiError, API_METHODS, dispatch, errorFromReply, EVENT_CHANNEL, ipcChannel, TOKEN_CHANNEL, type ApiMethod } from '../../../src/shared/api.js';

type Handler = (event: unknown, ...args: unknown[]) => Promise<unknown>;
type Listener = (event: unknown, payload: unknown) => void;

// The fake: ipcMain.handle / ipcRenderer.invoke meet in one map; contextBridge records what the
// preload exposes. Hoisted so the module factory below can use it.
const fake = vi.hoisted(() => {
  const handlers = new Map<string, Handler>();
  const listeners = new Map<string, Set<Listener>>();
  const exposed: Record<string, unknown> = {};
  const fakeSync = new Map<string, (event: { returnValue?: unknown; sender: { id: number }; senderFrame: unknown }) => void>();
  let sender = { id: 1, url: 'app://renderer/index.html', parent: null as unknown };
  return {
    handlers,
    listeners,
    exposed,
    setSender(s: typeof sender) {
      sender = s;
    },
    syncListeners: fakeSync,
    ipcMain: {
      on(channel: string, l: (event: { returnValue?: unknown; sender: { id: number }; senderFrame: unknown }) => void) {
        fakeSync.set(channel, l);
      },
      removeListener(channel: string) {
        fakeSync.delete(channel);
      },
      handle(channel: string, h: Handler) {
        if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
        handlers.set(channel, h);
      },
      removeHandler(channel: string) {
        handlers.delete(channel);
      },
    },
    ipcRenderer: {
      sendSync(channel: string) {
        const event: { returnValue?: unknown; sender: { id: number }; senderFrame: unknown } = {
          sender: { id: sender.id },
          senderFrame: { url: sender.url, parent: sender.parent },
        };
        fakeSync.get(channel)?.(event);
        return event.returnValue;
      },
      invoke(channel: string, ...args: unknown[]) {
        const h = handlers.get(channel);
        if (!h) return Promise.reject(new Error(`No handler registered for '${channel}'`));
        return h({ sender: { id: sender.id }, senderFrame: { url: sender.url, parent: sender.parent } }, ...args);
      },
      on(channel: string, l: Listener) {
        if (!listeners.has(channel)) listeners.set(channel, new Set());
        listeners.get(channel)!.add(l);
      },
      removeListener(channel: string, l: Listener) {
        listeners.get(channel)?.delete(l);
      },
    },
    contextBridge: {
      exposeInMainWorld(key: string, api: unknown) {
        exposed[key] = api;
      },
    },
  };
});

// The module factory (vi.mock, hoisted) is at the end of the shell's fake below: one fake for both.

describe('Electron IPC wiring', () => {
  let dir: string;
  let stop: () => Promise<void>;
  let bridge: Record<string, (req?: unknown) => Promise<unknown>> & { onEvent(l: (e: unknown) => void): () => void };
  /** Another reviewer's API on the same core, as a second reading room on the same database. */
  let elsewhere: import('../../../src/main/api/index.js').TriageApiImpl;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'triage-ipc-'));
    const { compose } = await import('../../../src/main/core.js');
    const { TriageApiImpl } = await import('../../../src/main/api/index.js');
    const { registerIpcHandlers, makeSenderCheck } = await import('../../../src/main/electron/ipc.js');
    const core = compose({ dataDir: dir });
    const api = new TriageApiImpl(core, { externalPollMs: 0 });
    elsewhere = new TriageApiImpl(core, { externalPollMs: 0 });
    const { ipcMain } = await import('electron');
    const unregister = registerIpcHandlers(ipcMain, (method, request) => dispatch(api, method, request), makeSenderCheck((id) => id === 1));
    await import('../../../src/preload/index.js');
    bridge = fake.exposed.triage as typeof bridge;
    stop = async () => {
      unregister();
      api.close();
      elsewhere.close();
      await core.stop();
    };
  });

  afterAll(async () => {
    await stop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers exactly one handler per API method, on the derived channel', () => {
    expect([...fake.handlers.keys()].sort()).toEqual(API_METHODS.map(ipcChannel).sort());
    expect(new Set(API_METHODS.map(ipcChannel)).size).toBe(API_METHODS.length);
  });

  it('exposes exactly one preload function per API method, plus onEvent, and not ipcRenderer', () => {
    expect(Object.keys(fake.exposed)).toEqual(['triage']);
    expect(Object.keys(bridge).sort()).toEqual([...API_METHODS, 'onEvent'].sort());
    for (const k of Object.keys(bridge)) expect(typeof bridge[k]).toBe('function');
    expect(Object.values(bridge)).not.toContain(fake.ipcRenderer);
    expect(Object.isFrozen(bridge)).toBe(true);
  });

  it('answers every method through preload → IPC → the API implementation', async () => {
    const replies: Partial<Record<ApiMethod, unknown>> = {};
    for (const m of ['worklist', 'quarantine', 'status', 'getSettings', 'changes', 'exportCsv'] as const) {
      replies[m] = await bridge[m]!({});
      expect(replies[m]).toMatchObject({ ok: true });
    }
    expect(replies.worklist).toMatchObject({ ok: true, value: { rows: [] } });
  });

  it('returns validation errors as envelopes, never throwing raw errors across IPC', async () => {
    expect(await bridge.slice!({ instanceId: -1 })).toMatchObject({ ok: false, error: expect.stringMatching(/invalid slice request/) });
    expect(await bridge.worklist!({ sort: 'random' })).toMatchObject({ ok: false });
    expect(await bridge.worklist!({ extra: 1 })).toMatchObject({ ok: false });
    expect(await bridge.study!({ studyUid: '9.9.9' })).toMatchObject({ ok: false, error: 'no study 9.9.9' });
  });

  it("carries a review conflict structured: the other decision, validated by the screen's client into ApiError.conflict", async () => {
    const { recordSeries } = await import('../../fixtures/store.js');
    const core = elsewhere.core;
    recordSeries(core.store, 1);
    expect(await bridge.signIn!({ name: 'Dr Here', create: true })).toMatchObject({ ok: true });
    await elsewhere.signIn({ name: 'Dr Elsewhere', create: true });
    // Both readers saw no decision; the other records first.
    const theirs = await elsewhere.review({ studyUid: '1.2.3.1', decision: 'confirmed', subtypes: ['subdural'], comment: 'thin SDH', after: null });
    const reply = await bridge.review!({ studyUid: '1.2.3.1', decision: 'dismissed', after: null });
    expect(reply).toEqual({
      ok: false,
      error: `study 1.2.3.1 was decided meanwhile: confirmed by Dr Elsewhere at ${theirs.review.createdAt}`,
      conflict: { studyUid: '1.2.3.1', latest: theirs.review },
    });
    const err = errorFromReply('review', reply, 'no message');
    expect(err).toBeInstanceOf(ApiError);
    expect(err.conflict).toEqual({ studyUid: '1.2.3.1', latest: theirs.review });
    // A reply whose conflict is not a decision is refused at that edge, not drawn.
    const forged = errorFromReply('review', { ok: false, error: 'x', conflict: { studyUid: '1.2.3.1', latest: { id: 'one' } } }, 'no message');
    expect(forged.conflict).toBeUndefined();
    expect(forged.message).toMatch(/invalid review error reply/);
    // Recorded anyway, over the decision shown: after = its id.
    expect(await bridge.review!({ studyUid: '1.2.3.1', decision: 'dismissed', after: theirs.review.id })).toMatchObject({
      ok: true,
      value: { reviewStatus: 'dismissed', review: { reviewer: 'Dr Here' } },
    });
    expect((await elsewhere.study({ studyUid: '1.2.3.1' })).reviews.map((r) => `${r.decision}:${r.reviewer}`)).toEqual([
      'confirmed:Dr Elsewhere',
      'dismissed:Dr Here',
    ]);
  });

  it('refuses a message without the per-launch token, and hands the token only to our own page', async () => {
    expect(await fake.ipcRenderer.invoke(ipcChannel('status'), { request: {} })).toMatchObject({ ok: false, error: expect.stringMatching(/IPC token/) });
    expect(await fake.ipcRenderer.invoke(ipcChannel('status'), { token: 'guess', request: {} })).toMatchObject({ ok: false });
    const token = fake.ipcRenderer.sendSync(TOKEN_CHANNEL);
    expect(String(token).length).toBeGreaterThanOrEqual(40);
    expect(await fake.ipcRenderer.invoke(ipcChannel('status'), { token, request: {} })).toMatchObject({ ok: true });
    try {
      fake.setSender({ id: 1, url: 'https://evil.example/', parent: null });
      expect(fake.ipcRenderer.sendSync(TOKEN_CHANNEL)).toBe('');
    } finally {
      fake.setSender({ id: 1, url: 'app://renderer/index.html', parent: null });
    }
  });

  it('refuses messages from another page, a subframe or another window', async () => {
    try {
      fake.setSender({ id: 1, url: 'https://evil.example/', parent: null });
      expect(await bridge.status!({})).toMatchObject({ ok: false, error: expect.stringMatching(/refused/) });
      fake.setSender({ id: 1, url: 'app://renderer/index.html', parent: {} });
      expect(await bridge.status!({})).toMatchObject({ ok: false, error: expect.stringMatching(/refused/) });
      fake.setSender({ id: 2, url: 'app://renderer/index.html', parent: null });
      expect(await bridge.status!({})).toMatchObject({ ok: false, error: expect.stringMatching(/refused/) });
      fake.setSender({ id: 1, url: 'file:///etc/passwd', parent: null });
      expect(await bridge.status!({})).toMatchObject({ ok: false });
    } finally {
      fake.setSender({ id: 1, url: 'app://renderer/index.html', parent: null });
    }
    expect(await bridge.status!({})).toMatchObject({ ok: true });
  });

  it('delivers events on the event channel without the IPC event object', () => {
    const got: unknown[] = [];
    const off = bridge.onEvent((e) => got.push(e));
    const payload = { type: 'changed', counter: 1, reason: 'review', studyUid: null };
    for (const l of fake.listeners.get(EVENT_CHANNEL) ?? []) l({ sender: 'secret' }, payload);
    off();
    for (const l of fake.listeners.get(EVENT_CHANNEL) ?? []) l({}, payload);
    expect(got).toEqual([payload]);
  });
});

// ---- the shell's lifecycle (src/main/electron/main.ts) with the same fake, extended ----------

const shell = vi.hoisted(() => {
  const appHandlers = new Map<string, ((...a: unknown[]) => void)[]>();
  const windows: { opts: Record<string, unknown>; url?: string }[] = [];
  const state = {
    protocolHandler: undefined as undefined | ((r: Request) => Response | Promise<Response>),
    schemes: [] as unknown[],
    beforeRequest: undefined as undefined | ((d: unknown, cb: (r: { cancel: boolean }) => void) => void),
    permission: undefined as undefined | ((wc: unknown, p: string, cb: (ok: boolean) => void) => void),
    quitCalls: 0,
    errorBoxes: [] as string[],
    ready: undefined as undefined | (() => void),
  };
  const readyPromise = new Promise<void>((ok) => (state.ready = ok));
  const app = {
    isPackaged: false,
    requestSingleInstanceLock: () => true,
    whenReady: () => readyPromise,
    on(event: string, cb: (...a: unknown[]) => void) {
      appHandlers.set(event, [...(appHandlers.get(event) ?? []), cb]);
    },
    emit(event: string, ...args: unknown[]) {
      for (const cb of appHandlers.get(event) ?? []) cb(...args);
    },
    quit() {
      state.quitCalls++;
      app.emit('before-quit', { preventDefault() {} });
    },
    exit() {},
  };
  class BrowserWindow {
    webContents = { id: 1, send() {}, on() {}, setWindowOpenHandler() {} };
    constructor(readonly opts: Record<string, unknown>) {
      windows.push(this as unknown as { opts: Record<string, unknown> });
    }
    once() {}
    on() {}
    loadURL(url: string) {
      (this as unknown as { url: string }).url = url;
      return Promise.resolve();
    }
    isDestroyed() {
      return false;
    }
    isMinimized() {
      return false;
    }
    focus() {}
    restore() {}
  }
  return {
    appHandlers,
    windows,
    state,
    app,
    BrowserWindow,
    Menu: { setApplicationMenu() {}, buildFromTemplate: (t: unknown) => t },
    Notification: Object.assign(function Notification() {}, { isSupported: () => false }),
    protocol: {
      registerSchemesAsPrivileged: (s: unknown[]) => state.schemes.push(...s),
      handle: (_scheme: string, h: (r: Request) => Response) => (state.protocolHandler = h),
    },
    session: {
      defaultSession: {
        webRequest: { onBeforeRequest: (_f: unknown, h: typeof state.beforeRequest) => (state.beforeRequest = h) },
        setPermissionRequestHandler: (h: typeof state.permission) => (state.permission = h),
        setPermissionCheckHandler() {},
      },
    },
    shell: { openPath: async () => '' },
    dialog: { showErrorBox: (title: string, body: string) => state.errorBoxes.push(`${title}: ${body}`) },
  };
});

vi.mock('electron', () => ({
  ipcMain: fake.ipcMain,
  ipcRenderer: fake.ipcRenderer,
  contextBridge: fake.contextBridge,
  app: shell.app,
  BrowserWindow: shell.BrowserWindow,
  Menu: shell.Menu,
  Notification: shell.Notification,
  protocol: shell.protocol,
  session: shell.session,
  shell: shell.shell,
  dialog: shell.dialog,
}));

describe('the Electron shell lifecycle', () => {
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'triage-shell-'));
    process.env.TRIAGE_DATA_DIR = join(dir, 'data');
    process.env.TRIAGE_MODELS_DIR = join(dir, 'no-models');
    await import('../../../src/main/electron/main.js');
    shell.state.ready!();
    await vi.waitFor(() => expect(shell.windows).toHaveLength(1), { timeout: 30_000 });
  });

  afterAll(() => {
    delete process.env.TRIAGE_DATA_DIR;
    delete process.env.TRIAGE_MODELS_DIR;
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens one window with isolation, sandbox, no Node, our preload and our page', () => {
    const w = shell.windows[0]!;
    expect(w.opts.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
    expect(String((w.opts.webPreferences as { preload: string }).preload)).toMatch(/preload[/\\]index\.cjs$/);
    expect(w.url).toBe('app://renderer/index.html');
    expect(shell.state.schemes).toEqual([expect.objectContaining({ scheme: 'app' })]);
  });

  it('registers the IPC handlers with the core started in its own thread', async () => {
    expect([...fake.handlers.keys()].sort()).toEqual(API_METHODS.map(ipcChannel).sort());
    expect(await (await bridge2()).status({})).toMatchObject({ ok: true, value: { dataDir: join(dir, 'data') } });
    // Validation happens in the workstation thread and its message comes back as an envelope.
    expect(await (await bridge2()).worklist({ sort: 'random' })).toMatchObject({ ok: false, error: expect.stringMatching(/invalid worklist request/) });
    // The data folder is held, but not by this thread's store: taking its lock here is refused.
    const { acquireDataLock, DataFolderInUse } = await import('../../../src/main/store/index.js');
    expect(() => acquireDataLock(join(dir, 'data'), 'test')).toThrow(DataFolderInUse);
  });

  it('serves only its own files, with the CSP, from app://renderer', async () => {
    const h = shell.state.protocolHandler!;
    const index = await h(new Request('app://renderer/index.html'));
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect((await h(new Request('app://renderer/../../../package.json'))).status).toBe(404);
    expect((await h(new Request('app://elsewhere/index.html'))).status).toBe(404);
  });

  it('blocks remote requests, permissions, navigation and new windows', () => {
    let cancelled: boolean | undefined;
    shell.state.beforeRequest!({ url: 'https://example.com/' }, (r) => (cancelled = r.cancel));
    expect(cancelled).toBe(true);
    let granted: boolean | undefined;
    shell.state.permission!({}, 'media', (ok) => (granted = ok));
    expect(granted).toBe(false);
    const on = new Map<string, (e: { preventDefault(): void }, url: string) => void>();
    let openHandler: (() => { action: string }) | undefined;
    shell.app.emit('web-contents-created', {}, {
      on: (ev: string, cb: (e: { preventDefault(): void }, url: string) => void) => on.set(ev, cb),
      setWindowOpenHandler: (h: () => { action: string }) => (openHandler = h),
    });
    let prevented = 0;
    on.get('will-navigate')!({ preventDefault: () => prevented++ }, 'https://example.com/');
    on.get('will-navigate')!({ preventDefault: () => prevented++ }, 'app://renderer/index.html');
    expect(prevented).toBe(1);
    expect(openHandler!()).toEqual({ action: 'deny' });
  });

  it('stops the core before quitting', async () => {
    let prevented = false;
    shell.app.emit('before-quit', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(true);
    await vi.waitFor(() => expect(shell.state.quitCalls).toBe(1));
    // The handlers are gone and the database is closed: the next start requeues unfinished work.
    expect(fake.handlers.size).toBe(0);
    const { acquireDataLock } = await import('../../../src/main/store/index.js');
    acquireDataLock(join(dir, 'data'), 'test')();
    expect(shell.state.errorBoxes).toEqual([]);
  });
});

/** A preload bridge for the shell's own registration (its own per-launch token), as a fresh page load makes. */
async function bridge2(): Promise<Record<ApiMethod, (req: unknown) => Promise<unknown>>> {
  const { buildBridge } = await import('../../../src/preload/index.js');
  return buildBridge(fake.ipcRenderer as never, String(fake.ipcRenderer.sendSync(TOKEN_CHANNEL)));
}
