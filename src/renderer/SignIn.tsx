/**
 * Who is at the workstation. Decisions and setting changes are recorded under a named local
 * reviewer (the main process keeps the list and the audit log), chosen here when the screen opens;
 * the worklist can be read without signing in.
 */
import { createContext, useCallback, useContext, useEffect, useState } from 'react';
import { getClient } from './api.js';
import type { Session } from '../shared/api.js';

export const SessionContext = createContext<{ session: Session | null; refresh(): void }>({ session: null, refresh: () => {} });

export function useSession(): { session: Session | null; refresh(): void } {
  return useContext(SessionContext);
}

export function useSessionState(): { session: Session | null; refresh(): void } {
  const client = getClient();
  const [session, setSession] = useState<Session | null>(null);
  const refresh = useCallback(() => void client.api.session({}).then(setSession).catch(() => {}), [client]);
  useEffect(() => {
    refresh();
    return client.onEvent((e) => {
      if (e.type === 'changed' && e.reason === 'session') refresh();
    });
  }, [client, refresh]);
  return { session, refresh };
}

export function SignIn(props: { onDone(): void }) {
  const client = getClient();
  const { session, refresh } = useSession();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);

  const signIn = async (who: string, create: boolean) => {
    setError(null);
    try {
      await client.api.signIn({ name: who, create });
      refresh();
      props.onDone();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <section className="page signin" data-testid="signin">
      <h2>Who is reading?</h2>
      <p className="muted small">
        Decisions and setting changes are recorded under your name, with the time, in the workstation&apos;s audit log.
      </p>
      {session && session.reviewers.length > 0 && (
        <div className="reviewers">
          {session.reviewers.map((r) => (
            <button key={r} onClick={() => void signIn(r, false)} data-testid={`signin-${r}`}>
              {r}
            </button>
          ))}
        </div>
      )}
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) void signIn(name.trim(), true);
        }}
      >
        <label className="field">
          {session?.reviewers.length ? 'Or add a reviewer' : 'Add the first reviewer'}
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Dr A. Example" data-testid="signin-name" />
        </label>
        <button className="confirm" type="submit" disabled={!name.trim()} data-testid="signin-add">
          Add and sign in
        </button>
      </form>
      <button className="link" onClick={props.onDone} data-testid="signin-skip">
        View only (sign in later to record decisions)
      </button>
      {error && <div className="error" role="alert">{error}</div>}
    </section>
  );
}
