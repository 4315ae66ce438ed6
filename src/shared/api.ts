/**
 * The contract between the core and its clients (the CLI's --json, the renderer over IPC or the
 * loopback server). Declared once, as zod schemas with the TypeScript types inferred from them,
 * so payloads are validated at runtime on both sides.
 */
import { z } from 'zod';
import { LABELS, type Label } from './labels.js';

const probabilitiesShape = Object.fromEntries(LABELS.map((l) => [l, z.number().min(0).max(1)])) as Record<
  Label,
  z.ZodNumber
>;
export const LabelProbabilitiesSchema = z.object(probabilitiesShape);

export const ReviewStatusSchema = z.enum(['new', 'in_review', 'confirmed', 'dismissed']);

/** Where a study is in the pipeline, worst series first. */
export const StudyStateSchema = z.enum(['receiving', 'ready', 'awaiting_model', 'scored', 'failed']);

export const WorklistRowSchema = z.object({
  studyUid: z.string(),
  patientName: z.string().nullable(),
  patientId: z.string().nullable(),
  accession: z.string().nullable(),
  description: z.string().nullable(),
  studyDate: z.string().nullable(),
  firstArrivalAt: z.string(),
  lastArrivalAt: z.string(),
  reviewStatus: ReviewStatusSchema,
  state: StudyStateSchema,
  stateReason: z.string().nullable(),
  seriesCount: z.number().int(),
  sliceCount: z.number().int(),
  /** The study score of the site's ranking model family; null until a model has scored it. */
  score: LabelProbabilitiesSchema.nullable(),
  scoredBy: z.string().nullable(),
});
export type WorklistRow = z.infer<typeof WorklistRowSchema>;

export const QuarantineEntrySchema = z.object({
  id: z.number().int(),
  path: z.string(),
  reason: z.string(),
  sha256: z.string().nullable(),
  createdAt: z.string(),
});
export type QuarantineEntry = z.infer<typeof QuarantineEntrySchema>;
