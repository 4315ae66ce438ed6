/**
 * The radiologist's screen: worklist (home), study viewer with review, quarantine, settings.
 * The disclaimer banner is part of the frame, so it is visible wherever a score is shown.
 */
import { useEffect, useRef, useState } from 'react';
import { getClient, type TriageClient } from './api.js';
import { loadFilter, toRequest, Worklist } from './Worklist.js';
import { Viewer } from './Viewer.js';
import { Quarantine } from './Quarantine.js';
import { SettingsPage } from './Settings.js';
import { SessionContext, SignIn, useSessionState } from './SignIn.js';
import type { DatabaseUnreachable, Status } from '../shared/api.js';
import { clockTime, localTime } from './format.js';

const SOUND_KEY = 'triage.alertSound';

/**
 * How often the status is read besides on every change: a database that went away sends no change,
 * and nothing else may touch it (no import folder watched), so the status read is what finds it.
 */
const STATUS_POLL_MS = 10_000;

/** A short two-note tone (Web Audio: no file to ship, nothing fetched). */
function playTone(): void {
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.setValueAtTime(880, ctx.currentTime);
    osc.frequency.setValueAtTime(660, ctx.currentTime + 0.15);
    gain.gain.setValueAtTime(0.15, ctx.currentTime);
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.3);
    osc.onended = () => void ctx.close();
  } catch {
    // no audio device: the title still says it
  }
}

type Page = { name: 'signin' } | { name: 'worklist' } | { name: 'study'; studyUid: string } | { name: 'quarantine' } | { name: 'settings' };

export function App() {
  const client = getClient();
  // The screen opens on "who is reading?"; the worklist is one click away (view only).
  const [page, setPage] = useState<Page>({ name: 'signin' });
  const sessionState = useSessionState();
  const [live, setLive] = useState(client.transport === 'ipc');
  const [selected, setSelected] = useState<string | null>(null);

  useEffect(() => client.onConnection(setLive), [client]);
  const { status, statusError } = useStatusAndAlerts(client);
  // When the worklist was last read whole: what the screen is as of while it is not live.
  const [worklistAsOf, setWorklistAsOf] = useState<number | null>(null);
  const unreachable = status?.databaseUnreachable ?? null;

  const openStudy = (studyUid: string) => {
    setSelected(studyUid);
    setPage({ name: 'study', studyUid });
  };
  const { notice, clearNotice, step } = useStudyStepping(client, openStudy);

  return (
    <SessionContext.Provider value={sessionState}>
    <div className="app">
      <TopBar page={page} onPage={setPage} quarantined={status?.counts.quarantined ?? 0} reviewer={sessionState.session?.reviewer ?? null} />
      {unreachable && <DatabaseBanner unreachable={unreachable} worklistAsOf={worklistAsOf} onWorklist={page.name === 'worklist'} />}
      {status && !unreachable && status.providers.length === 0 && (
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
            onOpen={openStudy}
            databaseUnreachable={unreachable !== null}
            onLoaded={setWorklistAsOf}
          />
        )}
        {notice && (
          <div className="notice" role="status" data-testid="notice">
            {notice}{' '}
            <button className="link" onClick={clearNotice}>
              ok
            </button>
          </div>
        )}
        {page.name === 'study' && (
          <Viewer
            key={page.studyUid}
            studyUid={page.studyUid}
            onClose={() => setPage({ name: 'worklist' })}
            onStep={(d) => step(page.studyUid, d, false)}
            onDecided={() => step(page.studyUid, 1, true)}
            onOpenStudy={openStudy}
          />
        )}
        {page.name === 'quarantine' && <Quarantine />}
        {page.name === 'settings' && <SettingsPage />}
      </main>
      <StatusBar live={live} status={status} statusError={statusError} />
    </div>
    </SessionContext.Provider>
  );
}

/**
 * While the shared database cannot be reached: since when, and that what the screen shows is as of
 * the worklist's last successful read, not live; the slices received meanwhile are not lost.
 */
function DatabaseBanner({ unreachable, worklistAsOf, onWorklist }: { unreachable: DatabaseUnreachable; worklistAsOf: number | null; onWorklist: boolean }) {
  const shown = worklistAsOf === null ? 'no worklist has been read since this screen opened' : `the worklist${onWorklist ? ' below' : ''} is as of ${clockTime(worklistAsOf)}, not live`;
  return (
    <div className="banner-database" role="alert" data-testid="database-banner" title={unreachable.reason}>
      <strong>Shared database unreachable since {localTime(unreachable.since)}</strong> — {shown}; received slices are kept and read again.
    </div>
  );
}

/** The header: the pages' tabs, who is signed in, and the disclaimer (visible wherever a score is shown). */
function TopBar({ page, onPage, quarantined, reviewer }: { page: Page; onPage(page: Page): void; quarantined: number; reviewer: string | null }) {
  const client = getClient();
  return (
    <header className="topbar">
      <div className="brand">ICH triage</div>
      <nav>
        <button className={page.name === 'worklist' || page.name === 'study' ? 'tab active' : 'tab'} onClick={() => onPage({ name: 'worklist' })}>
          Worklist
        </button>
        <button className={page.name === 'quarantine' ? 'tab active' : 'tab'} onClick={() => onPage({ name: 'quarantine' })} data-testid="tab-quarantine">
          Quarantine{quarantined ? <span className="count">{quarantined}</span> : null}
        </button>
        <button className={page.name === 'settings' ? 'tab active' : 'tab'} onClick={() => onPage({ name: 'settings' })} data-testid="tab-settings">
          Settings
        </button>
      </nav>
      <div className="who" data-testid="who">
        {reviewer ? (
          <>
            <span title="decisions and changes are recorded under this name">{reviewer}</span>{' '}
            <button className="link" onClick={() => void client.api.signOut({}).then(() => onPage({ name: 'signin' }))} data-testid="signout">
              sign out
            </button>
          </>
        ) : (
          <button className="link" onClick={() => onPage({ name: 'signin' })} data-testid="signin-open">
            sign in
          </button>
        )}
      </div>
      <div className="disclaimer" role="note" data-testid="disclaimer">
        Research software: models trained on synthetic data only, not clinically validated. Not for diagnosis.
      </div>
    </header>
  );
}

/**
 * The status (footer, no-model and database banners) and the flagged count, fetched again on every
 * change, and the status every STATUS_POLL_MS besides. A new flagged study is announced where the
 * reader is: the tab title, and a tone if asked for.
 */
function useStatusAndAlerts(client: TriageClient): { status: Status | null; statusError: string | null } {
  const [status, setStatus] = useState<Status | null>(null);
  const [statusError, setStatusError] = useState<string | null>(null);
  const flaggedSeen = useRef<number | null>(null);
  useEffect(() => {
    let alive = true;
    const readStatus = () =>
      void client.api
        .status({})
        .then((st) => {
          if (!alive) return;
          setStatus(st);
          setStatusError(null);
        })
        .catch((e: Error) => alive && setStatusError(`${clockTime(Date.now())}: ${e.message}`));
    const refresh = () => {
      readStatus();
      void client.api
        .worklist({ ...toRequest(loadFilter()), status: 'unreviewed', flaggedOnly: true, from: null, to: null })
        .then(({ rows }) => {
          if (!alive) return;
          const n = rows.length;
          document.title = n ? `(${n} flagged) ICH triage` : 'ICH triage';
          if (flaggedSeen.current !== null && n > flaggedSeen.current && localStorage.getItem(SOUND_KEY) === 'on') playTone();
          flaggedSeen.current = n;
        })
        .catch(() => {});
    };
    refresh();
    const off = client.onEvent(() => refresh());
    const poll = setInterval(readStatus, STATUS_POLL_MS);
    return () => {
      alive = false;
      off();
      clearInterval(poll);
    };
  }, [client]);
  return { status, statusError };
}

/**
 * Next/previous study in the radiologist's worklist order (unreviewed ones only, after a decision),
 * and the notice when there is none.
 */
function useStudyStepping(client: TriageClient, openStudy: (studyUid: string) => void) {
  const [notice, setNotice] = useState<string | null>(null);
  const neighbour = async (from: string, direction: 1 | -1, unreviewedOnly: boolean): Promise<string | null> => {
    const { rows } = await client.api.worklist(toRequest(loadFilter()));
    const i = rows.findIndex((r) => r.studyUid === from);
    for (let k = i + direction; k >= 0 && k < rows.length; k += direction) {
      const r = rows[k]!;
      if (!unreviewedOnly || r.reviewStatus === 'new' || r.reviewStatus === 'in_review') return r.studyUid;
    }
    if (unreviewedOnly) {
      // Wrap once: an unreviewed study above this one is still work to do.
      const first = rows.find((r) => r.studyUid !== from && (r.reviewStatus === 'new' || r.reviewStatus === 'in_review'));
      return first?.studyUid ?? null;
    }
    return null;
  };
  const step = (from: string, direction: 1 | -1, unreviewedOnly: boolean) =>
    void neighbour(from, direction, unreviewedOnly).then((uid) => {
      if (uid) {
        setNotice(null);
        openStudy(uid);
      } else {
        setNotice(unreviewedOnly ? 'Every study on the worklist is reviewed.' : direction === 1 ? 'This is the last study.' : 'This is the first study.');
      }
    });
  return { notice, clearNotice: () => setNotice(null), step };
}

/** The footer: connection, models in use, data folder, and the alert-tone switch. */
function StatusBar({ live, status, statusError }: { live: boolean; status: Status | null; statusError: string | null }) {
  const [soundOn, setSoundOn] = useState(() => localStorage.getItem(SOUND_KEY) === 'on');
  return (
    <footer className="statusbar">
      {/* Connected to the workstation is not live while its database is gone: the footer must not
          say "live" under the banner that says the rows are stale. */}
      {status?.databaseUnreachable ? (
        <span className="live gone" data-testid="live" title={status.databaseUnreachable.reason}>
          ● database unreachable
        </span>
      ) : (
        <span className={live ? 'live on' : 'live'} data-testid="live">
          {live ? '● live' : '○ reconnecting'}
        </span>
      )}
      {statusError && (
        <span className="stale-note" data-testid="status-error" title={statusError}>
          status not read at {statusError}
        </span>
      )}
      <span title="the models in use">{status ? status.models : '…'}</span>
      <span className="muted">data: {status?.dataDir ?? '…'}</span>
      <button
        className="link"
        data-testid="sound-toggle"
        title="a tone when a new flagged study arrives"
        onClick={() => {
          localStorage.setItem(SOUND_KEY, soundOn ? 'off' : 'on');
          setSoundOn(!soundOn);
        }}
      >
        alert tone: {soundOn ? 'on' : 'off'}
      </button>
    </footer>
  );
}
