import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';

/**
 * Tabster (Fluent UI's focus manager) puts `<i data-tabster-dummy aria-hidden="true" tabindex="0">` sentinels
 * around toolbars, grids and dialogs; they hand focus on at once and never keep it. axe-core reports them under
 * aria-hidden-focus; Microsoft's own Accessibility Insights drops exactly these as a false positive
 * (microsoft/tabster#288, microsoft/accessibility-insights-web#7605). Every other node of every rule counts.
 */
type Violation = Awaited<ReturnType<AxeBuilder['analyze']>>['violations'][number];

function isTabsterSentinel(violation: Violation, html: string): boolean {
  return violation.id === 'aria-hidden-focus' && /^<i [^>]*data-tabster-dummy/.test(html);
}

/**
 * The serious and critical axe-core violations of what the page shows now, one line each:
 * "rule-id: selector <html>, ...".
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => ({
      id: violation.id,
      nodes: violation.nodes.filter((node) => !isTabsterSentinel(violation, node.html)),
    }))
    .filter((violation) => violation.nodes.length > 0)
    .map(({ id, nodes }) => `${id}: ${nodes.map((node) => `${node.target.join(' ')} ${node.html.slice(0, 160)}`).join(', ')}`);
}
