import {
  Card,
  Checkbox,
  DataGrid,
  DataGridBody,
  DataGridCell,
  DataGridHeader,
  DataGridHeaderCell,
  DataGridRow,
  Menu,
  MenuItem,
  MenuList,
  MenuPopover,
  MenuTrigger,
  makeStyles,
  tokens,
  type TableColumnDefinition,
  type TableColumnId,
  type DataGridHeaderCellProps,
  type TableColumnSizingOptions,
  type TableFeaturesState,
  useColumnIdContext,
  useDataGridContext_unstable,
  type TableRowId,
  Select,
} from '@fluentui/react-components';
import { cloneElement, isValidElement, useCallback, useLayoutEffect, useMemo, useRef, useState, type ReactElement, type Ref, type RefObject } from 'react';
import { useColumnWidths } from './columnWidths';
import { NARROW, useMediaQuery } from './useMediaQuery';

const useStyles = makeStyles({
  scroll: { overflowX: 'auto' },
  // The last column takes the room the others leave in a wide window (Fluent pins every column to its width), and
  // its resize handle stays inside the table rather than jutting out past it.
  fillRest: { maxWidth: 'none !important', '& .fui-TableResizeHandle': { marginRight: 0 } },
  cards: { listStyle: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  card: { display: 'flex', flexDirection: 'row', gap: tokens.spacingHorizontalS, alignItems: 'flex-start' },
  cardBody: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXXS, minWidth: 0, flexGrow: 1 },
  cardTitle: { fontWeight: tokens.fontWeightSemibold, overflowWrap: 'anywhere' },
  field: { display: 'flex', gap: tokens.spacingHorizontalS, overflowWrap: 'anywhere' },
  fieldName: { color: tokens.colorNeutralForeground3, flexShrink: 0, minWidth: '96px' },
  // Lets a value's text be cut to the card's width instead of widening it.
  fieldValue: { minWidth: 0, flexGrow: 1 },
  sortBy: { alignSelf: 'flex-start', maxWidth: '100%', marginBottom: tokens.spacingVerticalS },
});

/** The rows ticked in a list page, kept by id so a refetch keeps them; cleared after every action. */
export function useSelection<T>(items: T[], getRowId: (item: T) => string) {
  const [selected, setSelected] = useState<Set<string>>(() => new Set());
  const selectedItems = useMemo(() => items.filter((item) => selected.has(getRowId(item))), [items, selected, getRowId]);
  const clear = useCallback(() => setSelected(new Set()), []);
  return { selected, selectedItems, setSelected, clear };
}

export type Selection<T> = ReturnType<typeof useSelection<T>>;

interface SelectableGridProps<T> {
  /** The accessible name of the list ("Users"). */
  label: string;
  items: T[];
  columns: TableColumnDefinition<T>[];
  getRowId: (item: T) => string;
  /** What a row's checkbox names ("Select alex@contoso.com" for "alex@contoso.com"). */
  itemName: (item: T) => string;
  /** Rows that cannot be ticked (for example the account's owner). */
  isSelectable?: (item: T) => boolean;
  selection: Selection<T>;
  /**
   * Sortable columns (those with a `compare`): the header cells become sort buttons. A column that compares every
   * pair as equal keeps the order of `items` (sorted by the server); narrow screens get a "Sort by" choice.
   */
  sort?: { state: GridSort; onChange: (next: GridSort) => void };
  /** Rows one line high where the cells allow it (long lists). */
  compact?: boolean;
  /**
   * Every column's minimum and ideal width (px): the person resizes them (drag a header's edge, or its context
   * menu's "Resize column with arrow keys"), and the widths chosen are remembered in this browser under `list`.
   * The minimums add up to the table's narrowest: below that it scrolls sideways rather than squeezing them.
   */
  columnSizes: { list: string; columns: TableColumnSizingOptions };
}

export interface GridSort {
  sortColumn: TableColumnId;
  sortDirection: 'ascending' | 'descending';
}

const always = () => true;

/** The width of a selection cell (Fluent's checkbox column), which the columns' room leaves out. */
const SELECTION_CELL_WIDTH = 44;

/** The widest a resize handle says its column may get (Fluent sets no maximum; the value only bounds the separator's range). */
const WIDEST_COLUMN = 2000;

/**
 * Fluent's resize handle, stating the width it sets: in keyboard mode the handle is a focusable separator, which
 * must say its value (aria-valuenow, within aria-valuemin and aria-valuemax); Fluent's says only aria-valuetext.
 */
function resizeHandle(sizing: TableFeaturesState<unknown>['columnSizing_unstable'], columnId: TableColumnId): DataGridHeaderCellProps['aside'] {
  const { aside } = sizing.getTableHeaderCellProps(columnId);
  const column = sizing.getColumnWidths().find((candidate) => candidate.columnId === columnId);
  if (!isValidElement(aside) || !column) return aside;
  const width = Math.round(column.width);
  return cloneElement(aside as ReactElement<Record<string, unknown>>, { 'aria-valuenow': width, 'aria-valuemin': column.minWidth, 'aria-valuemax': Math.max(width, WIDEST_COLUMN) });
}

/** A header cell of a resizable grid: Fluent's, with a handle that states its width (read from the grid, so it follows keyboard mode). */
function ResizableHeaderCell(props: DataGridHeaderCellProps & { ref?: Ref<HTMLDivElement> }) {
  const columnId = useColumnIdContext();
  const sizing = useDataGridContext_unstable((grid) => grid.columnSizing_unstable);
  return <DataGridHeaderCell {...props} aside={resizeHandle(sizing, columnId)} />;
}

/** An element's inner width, measured before the first paint and again whenever it changes. */
function useInnerWidth<E extends HTMLElement>(): [RefObject<E | null>, number | undefined] {
  const ref = useRef<E>(null);
  const [width, setWidth] = useState<number>();
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = () => setWidth(element.clientWidth);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

/** A multi-select list: a DataGrid with a checkbox per row on wide screens, a card per item on narrow ones. */
export function SelectableGrid<T>(props: SelectableGridProps<T>) {
  const narrow = useMediaQuery(NARROW);
  return narrow ? <SelectableCards {...props} /> : <SelectableTable {...props} />;
}

function SelectableTable<T>({
  label,
  items,
  columns,
  getRowId,
  itemName,
  isSelectable = always,
  selection,
  sort,
  compact,
  columnSizes,
}: SelectableGridProps<T>) {
  const [region, regionWidth] = useInnerWidth<HTMLDivElement>();
  const widths = useColumnWidths(columnSizes.list, columnSizes.columns, regionWidth === undefined ? undefined : regionWidth - SELECTION_CELL_WIDTH);
  const styles = useStyles();
  const lastColumn = columns.at(-1)?.columnId;
  const fill = (columnId: TableColumnId) => (columnId === lastColumn ? styles.fillRest : undefined);
  const { selected, setSelected } = selection;

  const onSelectionChange = (chosen: Set<TableRowId>) => {
    const selectable = items.filter(isSelectable).map(getRowId);
    const next = new Set([...chosen].map(String).filter((id) => selectable.includes(id)));
    // The header box asks for every row, the unselectable ones too: when all that can be ticked already were,
    // that click means "none".
    const headerToggledAll = chosen.size === items.length && items.length > 0;
    const hadAll = selectable.length > 0 && selectable.every((id) => selected.has(id));
    setSelected(headerToggledAll && hadAll ? new Set() : next);
  };

  return (
    // Focusable, so a keyboard can scroll it sideways when the window is narrower than the table.
    <div ref={region} className={styles.scroll} tabIndex={0} role="region" aria-label={`${label} table`}>
      <DataGrid
        resizableColumns
        // Each column keeps the width it was given: widening one never narrows another; past the window the table
        // scrolls sideways.
        resizableColumnsOptions={{ autoFitColumns: false }}
        columnSizingOptions={widths.sizing}
        onColumnResize={widths.onColumnResize}
        items={items}
        columns={columns}
        getRowId={getRowId}
        selectionMode="multiselect"
        selectedItems={selected}
        onSelectionChange={(_, data) => onSelectionChange(data.selectedItems)}
        aria-label={label}
        size={compact ? 'small' : undefined}
        sortable={Boolean(sort)}
        sortState={sort?.state}
        onSortChange={sort ? (_, next) => next.sortColumn !== undefined && sort.onChange({ sortColumn: next.sortColumn, sortDirection: next.sortDirection }) : undefined}
      >
        <DataGridHeader>
          <DataGridRow selectionCell={{ checkboxIndicator: { 'aria-label': `Select all ${label.toLowerCase()}` } }}>
            {({ renderHeaderCell, columnId }, grid) => (
              // The keyboard's way to resize (Fluent's keyboard mode): the header's context menu (Shift+F10 or the
              // menu key), then the arrow keys; Enter, Space, Escape or Tab ends it.
              <Menu openOnContext>
                <MenuTrigger>
                  <ResizableHeaderCell className={fill(columnId)}>{renderHeaderCell()}</ResizableHeaderCell>
                </MenuTrigger>
                <MenuPopover>
                  <MenuList>
                    <MenuItem onClick={grid.columnSizing_unstable.enableKeyboardMode(columnId)}>Resize column with arrow keys</MenuItem>
                    <MenuItem onClick={widths.reset}>Reset column widths</MenuItem>
                  </MenuList>
                </MenuPopover>
              </Menu>
            )}
          </DataGridRow>
        </DataGridHeader>
        <DataGridBody<T>>
          {({ item, rowId }) => (
            <DataGridRow<T>
              key={rowId}
              selectionCell={{
                checkboxIndicator: { 'aria-label': `Select ${itemName(item)}`, disabled: !isSelectable(item) },
              }}
            >
              {({ renderCell, columnId }) => <DataGridCell className={fill(columnId)}>{renderCell(item)}</DataGridCell>}
            </DataGridRow>
          )}
        </DataGridBody>
      </DataGrid>
    </div>
  );
}

function SelectableCards<T>({ label, items, columns, getRowId, itemName, isSelectable = always, selection, sort }: SelectableGridProps<T>) {
  const styles = useStyles();
  const sortable = columns.filter((column) => column.compare.length > 0);
  const shown = sort ? sortedForCards(items, columns, sort.state) : items;
  const { selected, setSelected } = selection;
  const [title, ...details] = columns;

  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };

  return (
    <>
      {sort && sortable.length > 0 ? (
        <Select
          aria-label={`Sort ${label.toLowerCase()} by`}
          className={styles.sortBy}
          value={`${String(sort.state.sortColumn)}:${sort.state.sortDirection}`}
          onChange={(_, data) => {
            const [column, direction] = data.value.split(':');
            sort.onChange({ sortColumn: column!, sortDirection: direction === 'descending' ? 'descending' : 'ascending' });
          }}
        >
          {sortable.flatMap((column) => [
            <option key={`${String(column.columnId)}:ascending`} value={`${String(column.columnId)}:ascending`}>
              {headerText(column)} (A to Z)
            </option>,
            <option key={`${String(column.columnId)}:descending`} value={`${String(column.columnId)}:descending`}>
              {headerText(column)} (Z to A)
            </option>,
          ])}
        </Select>
      ) : null}
    <ul className={styles.cards} aria-label={label}>
      {shown.map((item) => {
        const id = getRowId(item);
        return (
          <li key={id}>
            <Card className={styles.card} size="small">
              <Checkbox
                aria-label={`Select ${itemName(item)}`}
                checked={selected.has(id)}
                disabled={!isSelectable(item)}
                onChange={(_, data) => toggle(id, data.checked === true)}
              />
              <div className={styles.cardBody}>
                <div className={styles.cardTitle}>{title?.renderCell(item)}</div>
                {details.map((column) => (
                  <div key={column.columnId} className={styles.field}>
                    <span className={styles.fieldName}>{column.renderHeaderCell()}</span>
                    <span className={styles.fieldValue}>{column.renderCell(item)}</span>
                  </div>
                ))}
              </div>
            </Card>
          </li>
        );
      })}
    </ul>
    </>
  );
}

/** A header's words for the "Sort by" choice (headers are plain text where sortable). */
function headerText<T>(column: TableColumnDefinition<T>): string {
  const header: unknown = column.renderHeaderCell();
  return typeof header === 'string' ? header : String(column.columnId);
}

/** Cards in the chosen order: the grid sorts its rows itself, the cards do the same with the column's compare. */
function sortedForCards<T>(items: T[], columns: TableColumnDefinition<T>[], state: GridSort): T[] {
  const column = columns.find((candidate) => candidate.columnId === state.sortColumn);
  if (!column) return items;
  const direction = state.sortDirection === 'ascending' ? 1 : -1;
  return [...items].sort((a, b) => column.compare(a, b) * direction);
}
