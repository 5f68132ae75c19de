import { z } from 'zod';

/**
 * Names shown to people (organizations, app profiles): trimmed, 1..max characters. Any letter, digit, symbol
 * or punctuation people write in names is accepted (the en dash "–", "’", "!", "&", parentheses, accents...);
 * refused are only what is not text or could be taken for markup: control characters (tabs, line breaks, the
 * Unicode line and paragraph separators, bidirectional overrides that reorder what follows, lone surrogates)
 * and the angle brackets "<" and ">". The web app's `nameProblem` (src/web/forms.ts) applies the same rule.
 */
export const NAME_PATTERN = /^[^\p{Cc}\p{Cs}\u2028\u2029\u200E\u200F\u202A-\u202E\u2066-\u2069<>]+$/u;

export const nameSchema = (max = 100) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must have at most ${max} characters`)
    .regex(NAME_PATTERN, 'must not contain control characters (such as line breaks) or the markup characters < and >');

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
