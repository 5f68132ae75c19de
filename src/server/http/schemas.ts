import { z } from 'zod';

/**
 * Names shown to people (organizations, app profiles): trimmed, 1..max characters of letters, marks,
 * digits, spaces and everyday punctuation. Control characters, emoji and other symbols are refused
 * so names render the same everywhere (audit log, exports, Microsoft-adjacent admin UIs).
 */
const NAME_PATTERN = /^[\p{L}\p{M}\p{N} .,'&()\-_/+@#:]+$/u;

export const nameSchema = (max = 100) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must have at most ${max} characters`)
    .regex(NAME_PATTERN, "may contain letters, digits, spaces and . , ' & ( ) - _ / + @ # : only");

export const emailSchema = z
  .string()
  .trim()
  .max(254, 'must have at most 254 characters')
  .pipe(z.email('must be an email address'))
  .transform((s) => s.toLowerCase());

export const passwordSchema = z.string().min(1, 'is required').max(256, 'must have at most 256 characters');

export const errorResponseSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
  requestId: z.string(),
});
