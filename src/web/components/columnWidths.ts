import type { TableColumnId, TableColumnSizingOptions } from '@fluentui/react-components';
import { useCallback, useMemo, useState } from 'react';

/** Where a list's column widths are kept in this browser ("tenantgate.columnWidths.users"). */
const storageKeyOf = (list: string) => `tenantgate.columnWidths.${list}`;

/** Widths the person chose, by column id; anything else in storage (another version's shape, a hand edit) is ignored. */
export function parseColumnWidths(stored: string | null, columnIds: readonly string[]): Record<string, number> {
  if (!stored) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  const widths: Record<string, number> = {};
  for (const id of columnIds) {
    const width = (parsed as Record<string, unknown>)[id];
    if (typeof width === 'number' && Number.isFinite(width) && width > 0) widths[id] = Math.round(width);
  }
  return widths;
}

/** The room Fluent gives a cell beside its width (8 px each side). */
const CELL_PADDING = 16;

/**
 * The list's sizing: a width the person chose stays as chosen; the others are their ideal widths shrunk alike to
 * fit `available` (the table's room for cells, unknown before it is measured), never below their minimum. So a
 * laptop window shows the whole table, a narrow one scrolls rather than squeezing a column below its minimum, and
 * widening one column never narrows another (the table scrolls sideways instead).
 */
export function fittedSizing(defaults: TableColumnSizingOptions, chosen: Record<string, number>, available?: number): TableColumnSizingOptions {
  const entries = Object.entries(defaults);
  const idealOf = (options: TableColumnSizingOptions[string]) => options.idealWidth ?? options.minWidth ?? 0;
  const idealTotal = entries.reduce((sum, [, options]) => sum + idealOf(options), 0);
  const room = available === undefined ? Infinity : available - entries.length * CELL_PADDING;
  const scale = idealTotal > 0 ? Math.min(1, Math.max(0, room) / idealTotal) : 1;
  const sizing: TableColumnSizingOptions = {};
  for (const [id, options] of entries) {
    const width = chosen[id] ?? Math.floor(idealOf(options) * scale);
    sizing[id] = { ...options, idealWidth: Math.max(width, options.minWidth ?? 0) };
  }
  return sizing;
}

function readStorage(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function writeStorage(key: string, value: string | null): void {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    // Storage may be off (private windows): the widths then last until the page is left.
  }
}

/**
 * A list's resizable column widths, remembered per browser: what Fluent's DataGrid takes as `columnSizingOptions`
 * (fitted to `available`, the room for cells), the `onColumnResize` that stores a width the person chose (by mouse
 * or keyboard), and a reset to the defaults.
 */
export function useColumnWidths(list: string, defaults: TableColumnSizingOptions, available?: number) {
  const key = storageKeyOf(list);
  // Bumped by a reset: a new sizing object, so the grid takes the default widths again.
  const [generation, setGeneration] = useState(0);
  // Read when the room changes, not on every drag: the grid keeps the widths while the page is open.
  const sizing = useMemo(
    () => fittedSizing(defaults, parseColumnWidths(readStorage(key), Object.keys(defaults)), available),
    // `generation` is not read: it only asks for a fresh read of storage after a reset.
    [key, defaults, available, generation],
  );

  const onColumnResize = useCallback(
    (_event: unknown, data: { columnId: TableColumnId; width: number }) => {
      const chosen = parseColumnWidths(readStorage(key), Object.keys(defaults));
      writeStorage(key, JSON.stringify({ ...chosen, [String(data.columnId)]: Math.round(data.width) }));
    },
    [key, defaults],
  );

  const reset = useCallback(() => {
    writeStorage(key, null);
    setGeneration((n) => n + 1);
  }, [key]);

  return { sizing, onColumnResize, reset };
}
