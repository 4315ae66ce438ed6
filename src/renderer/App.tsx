/**
 * The radiologist's screen: worklist (home), study viewer with review, quarantine, settings.
 * The disclaimer banner is part of the frame, so it is visible wherever a score is shown.
 */
import { useEffect, useState } from 'react';
import { getClient } from './api.js';
import { Worklist } from './Worklist.js';
import { Viewer } from './Viewer.js';
import { Quarantine } from './Quarantine.js';
import { SettingsPage } from './Settings.js';
import { SessionContext, SignIn, useSessionState } from './SignIn.js';
import type { Status } from '../shared/api.js';

type Page = { name: 'signin' } | { name: 'worklist' } | { name: 'study'; studyUid: string } | { name: 'quarantine' } | { name: 'settings' };

export function App() {
  const client = getClient();
  // The screen opens on "who is reading?"; the worklist is one click away (view only).
  const [page, setPage] = useState<Page>({ name: 'signin' });
  const sessionState = useSessionState();
  const reviewer = sessionState.session?.reviewer ?? null;
  const [status, setStatus] = useState<Status | null>(null);
  const [live, setLive] = useState(client.transport === 'ipc');
  const [selected, setSelected] = useState<string | null>(null);

  useEffect(() => client.onConnection(setLive), [client]);
  useEffect(() => {
    let alive = true;
    const load = () => void client.api.status({}).then((s) => alive && setStatus(s)).catch(() => {});
    load();
    const off = client.onEvent(() => load());
    return () => {
      alive = false;
      off();
    };
  }, [client]);

  const quarantined = status?.counts.quarantined ?? 0;
  return (
    <SessionContext.Provider value={sessionState}>
    <div className="app">
      <header className="topbar">
        <div className="brand">ICH triage</div>
        <nav>
          <button className={page.name === 'worklist' || page.name === 'study' ? 'tab active' : 'tab'} onClick={() => setPage({ name: 'worklist' })}>
            Worklist
          </button>
          <button className={page.name === 'quarantine' ? 'tab active' : 'tab'} onClick={() => setPage({ name: 'quarantine' })} data-testid="tab-quarantine">
            Quarantine{quarantined ? <span className="count">{quarantined}</span> : null}
          </button>
          <button className={page.name === 'settings' ? 'tab active' : 'tab'} onClick={() => setPage({ name: 'settings' })} data-testid="tab-settings">
            Settings
          </button>
        </nav>
        <div className="who" data-testid="who">
          {reviewer ? (
            <>
              <span title="decisions and changes are recorded under this name">{reviewer}</span>{' '}
              <button className="link" onClick={() => void client.api.signOut({}).then(() => setPage({ name: 'signin' }))} data-testid="signout">
                sign out
              </button>
            </>
          ) : (
            <button className="link" onClick={() => setPage({ name: 'signin' })} data-testid="signin-open">
              sign in
            </button>
          )}
        </div>
        <div className="disclaimer" role="note" data-testid="disclaimer">
          Research software: models trained on synthetic phantoms only, not clinically validated. Not for diagnosis.
        </div>
      </header>
      {status && status.providers.length === 0 && (
        <div className="banner-nomodel" role="alert" data-testid="no-model-banner">
          <strong>No model loaded: nothing is being scored.</strong> New studies wait as &ldquo;awaiting model&rdquo;
          and are not ranked by bleed. {status.models}
        </div>
      )}
      <main>
        {page.name === 'signin' && <SignIn onDone={() => setPage({ name: 'worklist' })} />}
        {page.name === 'worklist' && (
          <Worklist
            selected={selected}
            onSelect={setSelected}
            onOpen={(studyUid) => {
              setSelected(studyUid);
              setPage({ name: 'study', studyUid });
            }}
          />
        )}
        {page.name === 'study' && <Viewer studyUid={page.studyUid} onClose={() => setPage({ name: 'worklist' })} />}
        {page.name === 'quarantine' && <Quarantine />}
        {page.name === 'settings' && <SettingsPage />}
      </main>
      <footer className="statusbar">
        <span className={live ? 'live on' : 'live'} data-testid="live">
          {live ? '● live' : '○ reconnecting'}
        </span>
        <span title="the models in use">{status ? status.models : '…'}</span>
        <span className="muted">data: {status?.dataDir ?? '…'}</span>
      </footer>
    </div>
    </SessionContext.Provider>
  );
}
