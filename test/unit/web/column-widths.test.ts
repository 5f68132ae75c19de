import { describe, expect, it } from 'vitest';
import { fittedSizing, parseColumnWidths } from '../../../src/web/components/columnWidths';

const COLUMNS = {
  email: { minWidth: 180, idealWidth: 300 },
  name: { minWidth: 100, idealWidth: 200 },
  status: { minWidth: 150, idealWidth: 150 },
};
const idealWidths = (sizing: ReturnType<typeof fittedSizing>) => Object.fromEntries(Object.entries(sizing).map(([id, options]) => [id, options.idealWidth]));

describe('parseColumnWidths', () => {
  it('keeps the positive widths of known columns, rounded, and ignores everything else', () => {
    expect(parseColumnWidths(JSON.stringify({ email: 321.6, name: -5, status: 'wide', gone: 200 }), ['email', 'name', 'status'])).toEqual({ email: 322 });
    expect(parseColumnWidths('not json', ['email'])).toEqual({});
    expect(parseColumnWidths('[300]', ['0'])).toEqual({});
    expect(parseColumnWidths(null, ['email'])).toEqual({});
  });
});

describe('fittedSizing', () => {
  it('gives the ideal widths when there is room (or before the room is measured)', () => {
    expect(idealWidths(fittedSizing(COLUMNS, {}))).toEqual({ email: 300, name: 200, status: 150 });
    expect(idealWidths(fittedSizing(COLUMNS, {}, 2000))).toEqual({ email: 300, name: 200, status: 150 });
  });

  it('shrinks the columns alike to fit, never below their minimum', () => {
    // 650 ideal + 3 × 16 padding = 698; 573 leaves 525 for cells: 525 / 650 of each ideal width.
    expect(idealWidths(fittedSizing(COLUMNS, {}, 573))).toEqual({ email: 242, name: 161, status: 150 });
    expect(idealWidths(fittedSizing(COLUMNS, {}, 100))).toEqual({ email: 180, name: 100, status: 150 });
  });

  it('keeps a chosen width as chosen (above its minimum), whatever the room', () => {
    expect(idealWidths(fittedSizing(COLUMNS, { name: 420 }, 573))).toEqual({ email: 242, name: 420, status: 150 });
    expect(idealWidths(fittedSizing(COLUMNS, { email: 20 }))).toEqual({ email: 180, name: 200, status: 150 });
  });
});
