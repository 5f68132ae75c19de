import { auditActionName, explainAudit } from './explain';
import type { AuditEvent } from './store';

const COLUMNS = ['Time (UTC)', 'Actor', 'Action', 'Action code', 'Target type', 'Target', 'Outcome', 'Cause', 'Fix', 'Client address', 'Details'];

/**
 * One field of RFC 4180 CSV. A value a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a
 * leading apostrophe: audit entries hold text typed by others (names, emails).
 */
function field(value: string | null | undefined): string {
  let text = value ?? '';
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n']/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The audit entries as CSV with a header row, in words (and the codes beside them for tools). */
export function auditCsv(events: AuditEvent[]): string {
  const lines = [COLUMNS.map(field).join(',')];
  for (const event of events) {
    const explanation = explainAudit(event);
    lines.push(
      [
        event.at,
        event.actorEmail,
        auditActionName(event.action),
        event.action,
        event.targetType,
        event.targetName ?? event.targetId,
        event.outcome === 'success' ? 'Success' : 'Failure',
        explanation?.cause,
        explanation?.fix,
        event.clientAddress,
        event.details ? JSON.stringify(event.details) : '',
      ]
        .map(field)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
