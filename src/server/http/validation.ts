import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import { validatorCompiler as zodValidatorCompiler } from 'fastify-type-provider-zod';

/**
 * Zod's validator, plus one rule for every route: no text may hold U+0000. PostgreSQL cannot store
 * it in a text column (it fails the whole statement), and no name, address or id ever has one, so
 * the request is refused as bad input, naming the field, before it reaches a store.
 */
export const validatorCompiler: FastifySchemaCompiler<unknown> = (route) => {
  const validate = zodValidatorCompiler(route as Parameters<typeof zodValidatorCompiler>[0]);
  return (data: unknown) => {
    const result = validate(data) as { value?: unknown; error?: Error | FastifySchemaValidationError[] };
    if (result.error) return result;
    const path = pathOfNul(result.value, []);
    if (!path) return result;
    const message = 'Text may not contain the NUL character (U+0000)';
    const issue: FastifySchemaValidationError = { keyword: 'custom', instancePath: `/${path.join('/')}`, schemaPath: '#', message, params: { issue: { path, message } } };
    return { error: [issue] };
  };
};

function pathOfNul(value: unknown, path: (string | number)[]): (string | number)[] | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = pathOfNul(value[i], [...path, i]);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = key.includes('\u0000') ? [...path, key] : pathOfNul(item, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}
