/**
 * The preload script (Electron's security checklist): it runs in the renderer's isolated world
 * with sandbox on and exposes exactly one function per TriageApi method, plus onEvent — never
 * ipcRenderer itself. Payloads are passed through as they are; the renderer validates replies
 * (src/renderer/api.ts) and main validates requests and the sender (src/main/electron/ipc.ts).
 *
 * Sandboxed preloads cannot load local modules, so this file is bundled to one CommonJS file,
 * dist/preload/index.cjs (`npm run build:preload`, config src/preload/vite.config.mts).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_METHODS, EVENT_CHANNEL, ipcChannel, TOKEN_CHANNEL, type ApiMethod } from '../shared/api.js';

export type Bridge = Record<ApiMethod, (request: unknown) => Promise<unknown>> & {
  onEvent(listener: (event: unknown) => void): () => void;
};

/**
 * The bridge the page sees. `token` (main's per-launch secret, fetched by this preload) is added to
 * every message here, in the isolated world: the page's scripts cannot read it.
 */
export function buildBridge(ipc: Pick<typeof ipcRenderer, 'invoke' | 'on' | 'removeListener'>, token: string): Bridge {
  const bridge = {} as Record<ApiMethod, (request: unknown) => Promise<unknown>>;
  for (const method of API_METHODS) {
    const channel = ipcChannel(method);
    bridge[method] = (request: unknown) => ipc.invoke(channel, { token, request });
  }
  return Object.freeze({
    ...bridge,
    onEvent(listener: (event: unknown) => void): () => void {
      // The IPC event object (with its sender) never reaches the page: only the payload does.
      const handler = (_e: IpcRendererEvent, payload: unknown) => listener(payload);
      ipc.on(EVENT_CHANNEL, handler);
      return () => {
        ipc.removeListener(EVENT_CHANNEL, handler);
      };
    },
  });
}

contextBridge.exposeInMainWorld('triage', buildBridge(ipcRenderer, String(ipcRenderer.sendSync(TOKEN_CHANNEL) ?? '')));
