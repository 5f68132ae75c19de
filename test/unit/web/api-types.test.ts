import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_TYPES_FILE, renderApiTypes } from '../../../scripts/api-types';

describe('src/web/api/types.ts', () => {
  it('is what `npm run api:types` generates from the current /api/openapi.json', async () => {
    const generated = await renderApiTypes();
    const committed = readFileSync(API_TYPES_FILE, 'utf8');
    expect(committed === generated, 'src/web/api/types.ts is stale: run `npm run api:types`').toBe(true);
  }, 30_000);
});
