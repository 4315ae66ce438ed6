/**
 * IPC registration: one `ipcMain.handle` per TriageApi method, on the channel derived from the
 * same list the preload script uses (API_METHODS → ipcChannel), so every method has exactly one
 * handler and one preload function. Each handler first checks the sender (our window, our
 * app:// page), then hands the request as it came to the API call: the API implementation, in the
 * workstation thread, validates it (the rule is written beside dispatch in src/shared/api.ts).
 * Replies are envelopes so the renderer sees our error message, not Electron's wrapping of it, and
 * a review conflict's decision (errorReply), as the HTTP server sends it.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IpcMain, IpcMainEvent, IpcMainInvokeEvent } from 'electron';
import { API_METHODS, ipcChannel, TOKEN_CHANNEL, type ApiMethod, type Envelope } from '../../shared/api.js';
import { errorReply } from '../api/index.js';

/**
 * Answers one API call, validating the request and the response: dispatch over the API in the
 * same thread, or the workstation thread's call (which dispatches there).
 */
export type ApiCall = (method: ApiMethod, request: unknown) => Promise<unknown>;


/** Decides whether an IPC message comes from the app's own page in the app's own window. */
export type SenderCheck = (event: IpcMainInvokeEvent) => boolean;

/**
 * Registers the handlers. Besides the sender check, every message must carry the per-launch secret
 * (`token`), which main hands only to a trusted sender's preload over TOKEN_CHANNEL; the page's own
 * scripts run in another world (context isolation) and never see it.
 */
export function registerIpcHandlers(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler' | 'on' | 'removeListener'>,
  call: ApiCall,
  isTrustedSender: SenderCheck,
  log: (m: string) => void = () => {},
  token: string = randomBytes(32).toString('base64url'),
): () => void {
  const expected = Buffer.from(token);
  const handOut = (event: IpcMainEvent): void => {
    event.returnValue = isTrustedSender(event as unknown as IpcMainInvokeEvent) ? token : '';
  };
  ipcMain.on(TOKEN_CHANNEL, handOut);
  for (const method of API_METHODS) {
    ipcMain.handle(ipcChannel(method), async (event: IpcMainInvokeEvent, message: unknown): Promise<Envelope> => {
      if (!isTrustedSender(event)) {
        log(`refused ${method} from an untrusted sender (${event.senderFrame?.url ?? 'unknown frame'})`);
        return { ok: false, error: 'refused: the message did not come from the triage window' };
      }
      const { token: given, request } = (message ?? {}) as { token?: unknown; request?: unknown };
      const givenBytes = Buffer.from(typeof given === 'string' ? given : '');
      if (givenBytes.length !== expected.length || !timingSafeEqual(givenBytes, expected)) {
        log(`refused ${method}: missing or wrong IPC token`);
        return { ok: false, error: 'refused: missing or wrong IPC token' };
      }
      try {
        return { ok: true, value: await call(method, request) };
      } catch (err) {
        return { ok: false, ...errorReply(err) };
      }
    });
  }
  return () => {
    ipcMain.removeListener(TOKEN_CHANNEL, handOut);
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
