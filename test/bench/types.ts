/** One line of a benchmark's table: a measured figure and the target it is held to. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  target: string;
  ok: boolean;
}
