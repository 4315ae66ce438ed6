/**
 * The Electron shell (the only folder that imports 'electron'): app lifecycle, one window, the
 * menu, IPC registration, desktop notifications for flagged studies. The workstation (core, store,
 * models, watcher, API) runs in its own worker thread (workstation-thread/), so no SQL, DICOM
 * parsing or scoring step ever blocks the thread that draws the windows and routes IPC. It starts
 * with the app and stops with it: quitting waits for its stop(), which finishes the current step
 * and leaves unfinished jobs queued for the next start (the job queue is persistent).
 *
 * Security (Electron's checklist): contextIsolation and sandbox on, nodeIntegration off, the
 * renderer loaded from a privileged app:// scheme with a strict CSP, no remote content (all
 * http/https/ws requests cancelled), navigation, new windows, webviews and permission requests
 * refused, and every IPC message's sender checked.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, Notification, protocol, session, shell, type WebContents } from 'electron';
import { defaultDataDir, defaultSharedDir } from '../core.js';
import { chooseStart, databaseFromEnvironment, type StartChoice } from '../start-config.js';
import { startWorkstationThread, type WorkstationThread } from '../workstation-thread/index.js';
import { CONTENT_SECURITY_POLICY, MIME } from '../server/index.js';
import { EVENT_CHANNEL, type ApiEvent } from '../../shared/api.js';
import { APP_ORIGIN, makeSenderCheck, registerIpcHandlers } from './ipc.js';
import { buildMenu } from './menu.js';

const here = dirname(fileURLToPath(import.meta.url));
// dist/main/electron → dist/renderer, dist/preload
const RENDERER_DIR = resolve(here, '..', '..', 'renderer');
const PRELOAD = resolve(here, '..', '..', 'preload', 'index.cjs');


protocol.registerSchemesAsPrivileged([
  // standard + secure so 'self' in the CSP and ES module scripts work; corsEnabled because Chromium
  // loads module scripts (Vite's output) in CORS mode even from the page's own origin.
  { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } },
]);

let mainWindow: BrowserWindow | null = null;
let workstation: WorkstationThread | null = null;
let unregisterIpc: (() => void) | null = null;
let stopping: Promise<void> | null = null;

function log(m: string): void {
  process.stderr.write(`[triage] ${m}\n`);
}

if (!app.requestSingleInstanceLock()) {
  // Another instance owns the database: hand over to it (it focuses its window) and leave.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  });
  app.whenReady().then(start, (err: unknown) => {
    log(`failed to start: ${(err as Error).message}`);
    app.exit(1);
  });
}

function serveAppScheme(): void {
  protocol.handle('app', (request) => {
    const url = new URL(request.url);
    let rel = decodeURIComponent(url.pathname);
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = normalize(join(RENDERER_DIR, rel));
    if (url.host !== 'renderer' || !file.startsWith(RENDERER_DIR + sep) || !existsSync(file)) {
      return new Response('not found', { status: 404 });
    }
    return new Response(readFileSync(file), {
      headers: {
        'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'X-Content-Type-Options': 'nosniff',
      },
    });
  });
}

function lockDownSessions(): void {
  const ses = session.defaultSession;
  // Offline by construction: the renderer never reaches the network.
  ses.webRequest.onBeforeRequest({ urls: ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*', 'ftp://*/*'] }, (_d, cb) =>
    cb({ cancel: true }),
  );
  ses.setPermissionRequestHandler((_wc, _permission, cb) => cb(false));
  ses.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_e, contents: WebContents) => {
    contents.on('will-navigate', (e, url) => {
      if (!url.startsWith(`${APP_ORIGIN}/`)) e.preventDefault();
    });
    contents.on('will-redirect', (e, url) => {
      if (!url.startsWith(`${APP_ORIGIN}/`)) e.preventDefault();
    });
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 1024,
    minHeight: 700,
    backgroundColor: '#0f1216',
    title: 'ICH triage',
    show: false,
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      devTools: !app.isPackaged,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}

function notifyFlag(e: Extract<ApiEvent, { type: 'flagged' }>): void {
  if (!Notification.isSupported()) return;
  const who = [e.patientName?.replace(/\^/g, ' '), e.accession ? `Acc ${e.accession}` : null].filter(Boolean).join(' · ');
  const n = new Notification({
    title: `Possible hemorrhage: ICH ${Math.round(e.score.any * 100)}%`,
    body: `${who || e.studyUid}\n(model trained on synthetic data only; not clinically validated)`,
    urgency: 'critical',
  });
  n.on('click', () => mainWindow?.focus());
  n.show();
}

async function start(): Promise<void> {
  lockDownSessions();
  serveAppScheme();
  const dataDir = process.env.TRIAGE_DATA_DIR ? resolve(process.env.TRIAGE_DATA_DIR) : defaultDataDir();
  // Packaged: models are an extra resource beside app.asar (electron-builder.yml).
  const modelsDir = process.env.TRIAGE_MODELS_DIR ?? (app.isPackaged ? join(process.resourcesPath, 'models') : undefined);
  // TRIAGE_DATABASE, else the database saved in Settings (start-config.ts). A saved choice that
  // cannot be read stops the start with its reason: SQLite instead would split the worklist.
  let start: StartChoice;
  try {
    start = chooseStart(dataDir, { database: databaseFromEnvironment(), sharedDir: defaultSharedDir() });
  } catch (err) {
    log((err as Error).message);
    dialog.showErrorBox('ICH triage cannot start', (err as Error).message);
    app.exit(1);
    return;
  }
  // A broken manifest must not keep the worklist from opening: series wait for a model.
  const ws = await startWorkstationThread(
    {
      dataDir,
      database: start.database,
      sharedDir: start.sharedDir,
      databaseSource: start.source,
      modelsDir,
      onModelError: 'continue',
      watch: process.env.TRIAGE_IMPORT_DIR,
      watchStored: true,
    },
    log,
  );
  workstation = ws;
  ws.onExit((reason) => {
    // The worklist would silently stop updating: say so, in words a reading room can act on.
    log(reason);
    dialog.showErrorBox('ICH triage stopped working', `${reason}.\nNo new studies are being read or scored. Quit and start the app again.`);
  });

  const ours = (id: number) => mainWindow !== null && !mainWindow.isDestroyed() && mainWindow.webContents.id === id;
  unregisterIpc = registerIpcHandlers(ipcMain, (method, request) => ws.call(method, request), makeSenderCheck(ours), log);
  ws.onEvent((e) => {
    if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(EVENT_CHANNEL, e);
    if (e.type === 'flagged') notifyFlag(e);
  });

  Menu.setApplicationMenu(buildMenu({ isPackaged: app.isPackaged, openDataFolder: () => void shell.openPath(dataDir) }));
  mainWindow = createWindow();
  app.on('activate', () => {
    if (!mainWindow) mainWindow = createWindow();
  });
}

/** Stops the core once: finishes the current step, leaves queued work for the next start. */
function shutdown(): Promise<void> {
  stopping ??= (async () => {
    unregisterIpc?.();
    await workstation?.stop();
    workstation = null;
  })();
  return stopping;
}

app.on('window-all-closed', () => app.quit());
let quitting = false;
app.on('before-quit', (e) => {
  if (quitting) return;
  e.preventDefault();
  quitting = true;
  shutdown()
    .catch((err: unknown) => log(`shutdown: ${(err as Error).message}`))
    .finally(() => app.quit());
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => app.quit());
