/**
 * Settings: the database for the next start, folders, flag thresholds, the ranking model family,
 * and (read-only) providers; each marked as this PC's own or the whole site's (on a database
 * several workstations share, the difference is whether a change here changes the other reading
 * rooms too).
 */
import { useEffect, useState } from 'react';
import { getClient } from './api.js';
import { LABELS, type Label } from '../shared/labels.js';
import { isPostgresUrl, type ApiResponse, type RankingModel, type Settings, type SettingScope, type Thresholds } from '../shared/api.js';
import { LABEL_SHORT } from './format.js';

export function SettingsPage() {
  const form = useSettingsForm();
  const { s, thresholds, error } = form;
  if (!s || !thresholds) return <section className="page">{error ? <div className="error">{error}</div> : 'Loading…'}</section>;

  return (
    <section className="page settings" data-testid="settings">
      <h2>Settings</h2>
      <div className="form">
        <label className="field">
          Data folder (this workstation&apos;s files)
          <input value={s.dataDir} readOnly />
        </label>
        <DatabaseChoice settings={s} onSaved={form.setS} />
        <label className="field">
          This workstation (the settings marked &ldquo;this PC&rdquo; are kept under its name)
          <input value={s.workstation} readOnly data-testid="workstation" />
        </label>
        <label className="field">
          <span>
            Import folder <ScopeTag scope={s.scopes.importFolder} setting="importFolder" />{' '}
            {s.watching ? <span className="pill st-confirmed">watching</span> : <span className="muted">(not watched)</span>}
          </span>
          <input value={form.folder} onChange={(e) => form.setFolder(e.target.value)} placeholder="/path/to/incoming DICOM" />
        </label>
        <ThresholdsFieldset thresholds={thresholds} model={s.modelThresholds} scope={s.scopes.thresholds} onChange={form.setThresholds} onError={form.setError} />
        <RankingChoice ranking={form.ranking} onChange={form.setRanking} settings={s} />
        <div className="actions">
          <button className="confirm" onClick={() => void form.save()}>Save</button>
          {form.msg && <span className="muted">{form.msg}</span>}
        </div>
        {error && <div className="error" role="alert">{error}</div>}
      </div>
      <h3>
        Models and execution providers (read-only) <ScopeTag scope={s.scopes.providers} setting="providers" />
      </h3>
      <p>{s.modelsDescription}</p>
      <ProvidersTable providers={s.providers} />
      <p className="muted small">The models were trained on synthetic data only (phantoms, and synthetic bleeds drawn into one real head CT) and are not clinically validated.</p>
    </section>
  );
}

/** The settings as loaded, the form's edits of them, and the save. */
function useSettingsForm() {
  const client = getClient();
  const [s, setS] = useState<Settings | null>(null);
  const [folder, setFolder] = useState('');
  const [thresholds, setThresholds] = useState<Thresholds | null>(null);
  const [ranking, setRanking] = useState<RankingModel>('ensemble');
  const [msg, setMsg] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    client.api
      .getSettings({})
      .then((r) => {
        setS(r);
        setFolder(r.importFolder ?? '');
        setThresholds(r.thresholds);
        setRanking(r.rankingModel);
      })
      .catch((e: Error) => setError(e.message));
  }, [client]);

  const save = async () => {
    if (!s || !thresholds) return;
    setError(null);
    try {
      // Only labels that differ from the model's operating point become site overrides.
      const patch = Object.fromEntries(
        LABELS.map((l) => [l, Math.abs(thresholds[l] - s.modelThresholds[l]) < 1e-9 ? null : thresholds[l]]),
      ) as Record<Label, number | null>;
      const nextFolder = folder.trim() || null;
      const folderChanged = nextFolder !== (s.importFolder ?? null);
      // Every file put in the import folder is read: a new one is taken only when confirmed.
      if (folderChanged && nextFolder && !window.confirm(`Watch ${nextFolder} as the import folder? Every file put in it will be read.`)) return;
      const r = await client.api.updateSettings({
        ...(folderChanged ? { importFolder: nextFolder, confirmImportFolder: true } : {}),
        thresholds: patch,
        rankingModel: ranking,
      });
      setThresholds(r.thresholds);
      setS(r);
      setMsg(r.watching && r.importFolder !== folder.trim() && folder.trim() ? 'Saved. The new import folder is watched from the next start.' : 'Saved.');
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return { s, setS, folder, setFolder, thresholds, setThresholds, ranking, setRanking, msg, error, setError, save };
}

/** Words for what chose the database in use. */
const SOURCE_WORDS: Record<Settings['databaseStart']['source'], string> = {
  'command line': 'the --database option',
  TRIAGE_DATABASE: 'the TRIAGE_DATABASE environment variable',
  Settings: 'Settings',
  default: 'the default',
};

/**
 * The database this PC uses, chosen at start: in use now and what chose it, and the one saved here
 * for the next start (this PC's own, kept in its data folder, never in the database). A saved URL
 * is shown without its password, so the field starts empty rather than with a URL that has lost it.
 */
function DatabaseChoice({ settings, onSaved }: { settings: Settings; onSaved(s: Settings): void }) {
  const client = getClient();
  const start = settings.databaseStart;
  const [database, setDatabase] = useState('');
  const [sharedDir, setSharedDir] = useState(start.savedSharedDir ?? '');
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const postgres = isPostgresUrl(database);

  const run = async (what: () => Promise<{ ok: boolean; text: string }>) => {
    setBusy(true);
    setNote(null);
    try {
      setNote(await what());
    } catch (e) {
      setNote({ ok: false, text: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };
  const test = () => run(async () => {
    const r = await client.api.testDatabase({ database: database.trim() });
    return { ok: r.ok, text: r.message };
  });
  const save = () => run(async () => {
    const r = await client.api.saveDatabase({ database: database.trim(), sharedDir: postgres ? sharedDir.trim() || null : null, test: postgres });
    onSaved(r);
    setDatabase('');
    return { ok: true, text: r.databaseStart.overriddenBy ? 'Saved; overridden at start, as said above.' : 'Saved for the next start: restart the workstation to use it.' };
  });

  return (
    <fieldset data-testid="database-choice">
      <legend>
        Database <span className="pill scope-workstation" title="Kept for this PC only, in its data folder">this PC</span>
      </legend>
      <label className="field">
        In use (chosen at start by {SOURCE_WORDS[start.source]})
        <input value={settings.database} readOnly data-testid="database" />
      </label>
      {start.saved !== null && (
        <p className="small" data-testid="database-saved">
          Saved for the next start: <code>{start.saved === 'sqlite' ? 'SQLite in the data folder' : start.saved}</code>
          {start.savedSharedDir && <> with the shared folder <code>{start.savedSharedDir}</code></>}
          {start.overriddenBy
            ? ` — overridden: ${SOURCE_WORDS[start.overriddenBy]} chooses the database at start, not this saved value.`
            : start.pendingRestart
              ? ' — restart the workstation to use it.'
              : ' — in use.'}
        </p>
      )}
      {start.savedError && <div className="error" data-testid="database-saved-error">{start.savedError}</div>}
      <label className="field">
        <span>
          Database for the next start: <code>sqlite</code> (the default, in the data folder) or a PostgreSQL URL several workstations share
        </span>
        <input
          value={database}
          onChange={(e) => setDatabase(e.target.value)}
          placeholder="postgres://user:password@host:5432/database"
          autoComplete="off"
          spellCheck={false}
          data-testid="database-input"
        />
      </label>
      {postgres && (
        <label className="field">
          Shared folder for HU copies (mounted on every workstation on that database)
          <input value={sharedDir} onChange={(e) => setSharedDir(e.target.value)} placeholder="/mnt/triage-share" data-testid="shared-dir-input" />
        </label>
      )}
      <div className="actions">
        <button type="button" disabled={busy || !postgres} onClick={() => void test()} data-testid="database-test">
          Test connection
        </button>{' '}
        <button type="button" className="confirm" disabled={busy || !database.trim()} onClick={() => void save()} data-testid="database-save">
          Save database
        </button>
        {note && (
          <span className={note.ok ? 'muted' : 'error'} role={note.ok ? 'status' : 'alert'} data-testid="database-note">
            {note.text}
          </span>
        )}
      </div>
      <p className="muted small">
        Saved in {start.file} (readable by this PC&apos;s user only), never in the database. The <code>--database</code> option and
        TRIAGE_DATABASE override it. A PostgreSQL database is tested before it is saved.
      </p>
    </fieldset>
  );
}

/** The flag thresholds: one per label, back to the model's, or proposed from the studies reviewed here. */
function ThresholdsFieldset(props: {
  thresholds: Thresholds;
  model: Thresholds;
  scope: SettingScope;
  onChange(t: Thresholds): void;
  onError(message: string): void;
}) {
  const client = getClient();
  const { thresholds, model, onChange } = props;
  const [proposal, setProposal] = useState<ApiResponse<'proposeThresholds'> | null>(null);
  return (
    <fieldset>
      <legend>
        Flag thresholds (a study is flagged when any label reaches its threshold) <ScopeTag scope={props.scope} setting="thresholds" />
      </legend>
      <p className="muted small">
        Defaults are the ranking family&apos;s operating thresholds from the model manifest, chosen on the study
        scores of held-out synthetic phantoms (not on real patients); <code>triage evaluate</code> reports these
        same numbers. A value you change here
        overrides that label and is marked &ldquo;site&rdquo;.
      </p>
      <ThresholdInputs thresholds={thresholds} model={model} onChange={onChange} />
      <button type="button" onClick={() => onChange({ ...model })} data-testid="thresholds-reset">
        Use the model&apos;s thresholds
      </button>{' '}
      <button
        type="button"
        data-testid="thresholds-propose"
        title="Per label, the highest threshold on the ranking family's scores that still flags 95 % of the studies confirmed here"
        onClick={() => void client.api.proposeThresholds({}).then(setProposal).catch((e: Error) => props.onError(e.message))}
      >
        Propose from reviewed studies
      </button>
      {proposal && <ThresholdProposal proposal={proposal} onUse={(next) => onChange({ ...thresholds, ...next })} />}
    </fieldset>
  );
}

/** The model family that ranks the worklist, and why the one in use ranks it. */
function RankingChoice({ ranking, onChange, settings }: { ranking: RankingModel; onChange(r: RankingModel): void; settings: Settings }) {
  return (
    <>
      <label className="field">
        <span>
          Model family that ranks the worklist <ScopeTag scope={settings.scopes.rankingModel} setting="rankingModel" />
        </span>
        <select value={ranking} onChange={(e) => onChange(e.target.value as RankingModel)} data-testid="ranking-model">
          <option value="ensemble">ensemble (EfficientNet-B3 + Inception-ResNet-V2, mean)</option>
          <option value="convlstm">Conv-LSTM with systematic windows</option>
          <option value="mean">mean of both families</option>
        </select>
      </label>
      <p className="muted small" data-testid="ranking-reason">
        Ranking now: <b>{settings.rankingModel}</b> — {settings.rankingReason}. Measured default: {settings.rankingDefault}.
      </p>
    </>
  );
}

/** One number per label; a value that differs from the model's operating point is marked "site". */
function ThresholdInputs({ thresholds, model, onChange }: { thresholds: Thresholds; model: Thresholds; onChange: (t: Thresholds) => void }) {
  return (
    <div className="thresholds">
      {LABELS.map((l: Label) => {
        const changed = Math.abs(thresholds[l] - model[l]) >= 1e-9;
        return (
          <label key={l} className="field small" data-testid={`threshold-${l}`}>
            {LABEL_SHORT[l]} <span className="muted">{l}</span>{' '}
            <span className={changed ? 'pill st-in_review' : 'muted'} title={`model: ${model[l].toFixed(3)}`}>
              {changed ? 'site' : 'model'}
            </span>
            <input type="number" min={0} max={1} step={0.01} value={Number(thresholds[l].toFixed(3))} onChange={(e) => onChange({ ...thresholds, [l]: Math.max(0, Math.min(1, Number(e.target.value))) })} />
          </label>
        );
      })}
    </div>
  );
}

/** Thresholds proposed from the studies reviewed here; nothing changes until they are used and saved. */
function ThresholdProposal({ proposal, onUse }: { proposal: ApiResponse<'proposeThresholds'>; onUse: (next: Partial<Thresholds>) => void }) {
  return (
    <div className="proposal" data-testid="thresholds-proposal">
      <p className="muted small">
        From {proposal.reviewed} reviewed studies scored by {proposal.rankingModel}: nothing changes until you use them and save.
      </p>
      <table className="compact">
        <thead>
          <tr>
            <th>label</th>
            <th>now</th>
            <th>proposed</th>
            <th>sens / spec</th>
            <th>with / without</th>
          </tr>
        </thead>
        <tbody>
          {proposal.labels.map((p) => (
            <tr key={p.label} data-testid={`proposal-${p.label}`}>
              <td>{LABEL_SHORT[p.label]}</td>
              <td>{p.current.toFixed(3)}</td>
              <td title={p.reason}>{p.threshold === null ? <span className="muted">— {p.reason}</span> : p.threshold.toFixed(3)}</td>
              <td>{p.sensitivity === null ? '' : `${Math.round(p.sensitivity * 100)} % / ${Math.round((p.specificity ?? 0) * 100)} %`}</td>
              <td>
                {p.positives} / {p.negatives}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button
        type="button"
        data-testid="thresholds-use-proposal"
        disabled={proposal.labels.every((p) => p.threshold === null)}
        onClick={() => onUse(Object.fromEntries(proposal.labels.filter((p) => p.threshold !== null).map((p) => [p.label, p.threshold!])))}
      >
        Use the proposed thresholds
      </button>
    </div>
  );
}

/** Whose a setting is, beside it: this PC's own, or shared by every workstation on the database. */
function ScopeTag({ scope, setting }: { scope: SettingScope; setting: keyof Settings['scopes'] }) {
  return scope === 'workstation' ? (
    <span className="pill scope-workstation" data-testid={`scope-${setting}`} title="Kept for this workstation only: the other workstations on the database keep their own">
      this PC
    </span>
  ) : (
    <span className="pill scope-site" data-testid={`scope-${setting}`} title="Shared by every workstation on this database: a change here changes them all">
      whole site
    </span>
  );
}

/** Which execution provider runs each model, and why (read-only). */
function ProvidersTable({ providers }: { providers: Settings['providers'] }) {
  if (!providers.length) return <div className="empty small">No model loaded.</div>;
  return (
    <table className="rows small">
      <thead><tr><th>Model</th><th>Provider</th><th>Why</th></tr></thead>
      <tbody>
        {providers.map((p) => (
          <tr key={p.modelId}><td>{p.modelId}</td><td>{p.provider}</td><td>{p.reason}</td></tr>
        ))}
      </tbody>
    </table>
  );
}
