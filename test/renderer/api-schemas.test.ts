/**
 * The shared API contract (src/shared/api.ts): one method list, channel and path names derived
 * from it, request defaults and refusals, and validation of both directions by the helpers both
 * transports use.
 */
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  ApiEventSchema,
  API_METHODS,
  API_SCHEMAS,
  dispatch,
  errorFromReply,
  httpPath,
  ipcChannel,
  isApiMethod,
  LabelSchema,
  makeClient,
  parseRequest,
  SubtypeSchema,
  type TriageApi,
} from '../../src/shared/api.js';
import { LABELS, SUBTYPES } from '../../src/shared/labels.js';

describe('the API contract', () => {
  it('names each method once, with channels and paths derived from the names', () => {
    expect(API_METHODS).toEqual(Object.keys(API_SCHEMAS));
    expect(new Set(API_METHODS).size).toBe(API_METHODS.length);
    expect(ipcChannel('worklist')).toBe('triage:worklist');
    expect(httpPath('review')).toBe('/api/review');
    expect(isApiMethod('worklist')).toBe(true);
    expect(isApiMethod('toString')).toBe(false);
    expect(isApiMethod('__proto__')).toBe(false);
  });

  it('uses the project label order', () => {
    expect(LabelSchema.options).toEqual([...LABELS]);
    expect(SubtypeSchema.options).toEqual([...SUBTYPES]);
  });

  it('fills worklist defaults and refuses unknown fields and bad values', () => {
    expect(parseRequest('worklist', {})).toEqual({
      status: 'all',
      flaggedOnly: false,
      from: null,
      to: null,
      tzOffsetMinutes: 0,
      sort: 'score',
      limit: 1000,
    });
    expect(parseRequest('worklist', undefined).sort).toBe('score');
    expect(() => parseRequest('worklist', { sortBy: 'score' })).toThrow(ApiError);
    expect(() => parseRequest('worklist', { from: '22/11/2026' })).toThrow(/from/);
    expect(() => parseRequest('worklist', { limit: 0 })).toThrow(/limit/);
  });

  it('takes the reviewer from the session, not the request; real subtypes only', () => {
    const ok = parseRequest('review', { studyUid: '1.2', decision: 'confirmed', subtypes: ['subdural'] });
    expect(ok).toEqual({ studyUid: '1.2', decision: 'confirmed', subtypes: ['subdural'], comment: '' });
    expect(() => parseRequest('review', { studyUid: '1.2', reviewer: 'Dr Chief', decision: 'confirmed' })).toThrow(ApiError);
    expect(() => parseRequest('review', { studyUid: '1.2', decision: 'confirmed', subtypes: ['any'] })).toThrow(ApiError);
    expect(() => parseRequest('review', { studyUid: '1.2', decision: 'approve' })).toThrow(/decision/);
    expect(() => parseRequest('review', { studyUid: '1.2', decision: 'dismissed', comment: 'x'.repeat(4001) })).toThrow(/comment/);
  });

  it('signs in by a printable reviewer name', () => {
    expect(parseRequest('signIn', { name: ' Dr A ' })).toEqual({ name: 'Dr A', create: false });
    expect(() => parseRequest('signIn', { name: 'A' })).toThrow(/at least 2/);
    expect(() => parseRequest('signIn', { name: 'Dr A\nreview.confirmed' })).toThrow(/control characters/);
    expect(() => parseRequest('signIn', { name: 'Dr\u202eA' })).toThrow(/control characters/);
  });

  it('validates settings patches', () => {
    expect(parseRequest('updateSettings', { thresholds: { any: 0.3 } })).toEqual({ thresholds: { any: 0.3 } });
    expect(() => parseRequest('updateSettings', { thresholds: { any: 1.5 } })).toThrow(ApiError);
    expect(() => parseRequest('updateSettings', { rankingModel: 'resnet' })).toThrow(ApiError);
    expect(parseRequest('updateSettings', { importFolder: null })).toEqual({ importFolder: null });
  });

  it('validates events', () => {
    expect(ApiEventSchema.safeParse({ type: 'changed', counter: 3, reason: 'ingest', studyUid: null }).success).toBe(true);
    expect(ApiEventSchema.safeParse({ type: 'changed', counter: 3, reason: 'gossip', studyUid: null }).success).toBe(false);
  });

  it('makeClient validates replies, so a malformed reply never reaches the screen', async () => {
    const sent: unknown[] = [];
    const client = makeClient(async (method, request) => {
      sent.push([method, request]);
      return method === 'changes' ? { counter: 'seven' } : { counter: 7 };
    });
    await expect(client.changes({})).rejects.toThrow(/invalid changes response/);
    // Requests are the receiving side's to validate (the implementation): sent as they are.
    await expect(client.worklist({ sort: 'sideways' } as never)).rejects.toThrow(/invalid worklist response/);
    expect(sent).toEqual([
      ['changes', {}],
      ['worklist', { sort: 'sideways' }],
    ]);
  });

  it("reads a failed call's reply into an ApiError, with a review conflict's decision validated", () => {
    const latest = { id: 7, studyUid: '1.2.3', reviewer: 'Dr B', decision: 'confirmed', subtypes: ['subdural'], comment: 'thin SDH', createdAt: '2026-01-01T10:00:00.000Z' };
    const conflict = errorFromReply('review', { error: 'study 1.2.3 was decided meanwhile', method: 'review', conflict: { studyUid: '1.2.3', latest } }, 'HTTP 409');
    expect(conflict).toBeInstanceOf(ApiError);
    expect(conflict).toMatchObject({ message: 'study 1.2.3 was decided meanwhile', method: 'review', conflict: { studyUid: '1.2.3', latest } });
    expect(errorFromReply('review', { ok: false, error: 'no study 1.2.3' }, 'x').conflict).toBeUndefined();
    // No message (an HTTP error page, an empty body): the transport's own words.
    expect(errorFromReply('status', {}, 'status: HTTP 502').message).toBe('status: HTTP 502');
    expect(errorFromReply('status', null, 'status: HTTP 502').message).toBe('status: HTTP 502');
    // A conflict that is not a decision never reaches the screen as one.
    const bad = errorFromReply('review', { error: 'x', conflict: { studyUid: '1.2.3', latest: { ...latest, decision: 'deleted' } } }, 'HTTP 409');
    expect(bad.conflict).toBeUndefined();
    expect(bad.message).toMatch(/^invalid review error reply: conflict\.latest\.decision/);
  });

  it('dispatch passes the request to the implementation unchanged and its reply back, refusing unknown methods', async () => {
    const calls: unknown[] = [];
    const api = {
      changes: async (req: unknown) => {
        calls.push(req);
        return { counter: 1 };
      },
    } as unknown as TriageApi;
    expect(await dispatch(api, 'changes', { x: 1 })).toEqual({ counter: 1 });
    expect(await dispatch(api, 'changes', undefined)).toEqual({ counter: 1 });
    expect(calls).toEqual([{ x: 1 }, {}]);
    await expect(dispatch(api, 'toString' as never, {})).rejects.toThrow(/no API method/);
  });
});
