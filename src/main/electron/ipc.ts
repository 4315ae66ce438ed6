/**
 * IPC registration: one `ipcMain.handle` per TriageApi method, on the channel derived from the
 * same list the preload script uses (API_METHODS → ipcChannel), so every method has exactly one
 * handler and one preload function. Each handler first checks the sender (our window, our
 * app:// page), then validates the request and the response (dispatch in src/shared/api.ts).
 * Replies are envelopes so the renderer sees our error message, not Electron's wrapping of it.
 */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { API_METHODS, dispatch, ipcChannel, type TriageApi } from '../../shared/api.js';

export type Envelope = { ok: true; value: unknown } | { ok: false; error: string };

/** Decides whether an IPC message comes from the app's own page in the app's own window. */
export type SenderCheck = (event: IpcMainInvokeEvent) => boolean;

export function registerIpcHandlers(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  api: TriageApi,
  isTrustedSender: SenderCheck,
  log: (m: string) => void = () => {},
): () => void {
  for (const method of API_METHODS) {
    ipcMain.handle(ipcChannel(method), async (event: IpcMainInvokeEvent, request: unknown): Promise<Envelope> => {
      if (!isTrustedSender(event)) {
        log(`refused ${method} from an untrusted sender (${event.senderFrame?.url ?? 'unknown frame'})`);
        return { ok: false, error: 'refused: the message did not come from the triage window' };
      }
      try {
        return { ok: true, value: await dispatch(api, method, request) };
      } catch (err) {
        return { ok: false, error: (err as Error).message };
      }
    });
  }
  return () => {
    for (const method of API_METHODS) ipcMain.removeHandler(ipcChannel(method));
  };
}

/** The origin the renderer is loaded from (src/main/electron/main.ts registers the scheme). */
export const APP_ORIGIN = 'app://renderer';

/** A sender is trusted when it is the main frame of one of our windows showing our origin. */
export function makeSenderCheck(isOurWebContents: (id: number) => boolean): SenderCheck {
  return (event) => {
    const frame = event.senderFrame;
    if (!frame || !isOurWebContents(event.sender.id)) return false;
    if (frame.parent !== null) return false;
    // app: is not a special scheme, so URL.origin is opaque ("null"); compare the prefix.
    return frame.url.startsWith(`${APP_ORIGIN}/`);
  };
}
