// RFC 4180 CSV: the one writer every report file uses, and a reader for storage snapshots
// (`bq query --format=csv` output).

export type CsvValue = string | number | bigint | boolean | null | undefined;

/**
 * Guards against spreadsheet formula injection (OWASP "CSV Injection"): every text cell that
 * starts with one of these is prefixed with ', whatever follows (`-1+cmd|...` is a formula too).
 * Numbers are written from number and bigint values, which never need it; a text that is a
 * whole decimal number and nothing else (a negative amount such as a credit, "-1.158583") is a
 * number to a spreadsheet too, and is left as it is.
 */
const PLAIN_DECIMAL = /^-\d+(?:\.\d+)?$/;

/** Whether a text starts as a formula: = + - @ tab or carriage return. */
function formulaStart(text: string): boolean {
  const first = text.charCodeAt(0);
  return first === 61 || first === 43 || first === 45 || first === 64 || first === 9 || first === 13;
}

const NEEDS_QUOTES = /[",\r\n]/;

function cell(value: CsvValue): string {
  if (value === null || value === undefined) return "";
  // A number, bigint or boolean is never quoted nor guarded: only texts are tested.
  if (typeof value !== "string") return String(value);
  let text = value;
  if (formulaStart(text) && !PLAIN_DECIMAL.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: readonly CsvValue[]): string {
  // Appended in one pass (no array of cells to join): a line is written for every job.
  let line = values.length > 0 ? cell(values[0]) : "";
  for (let i = 1; i < values.length; i++) line += `,${cell(values[i])}`;
  return `${line}\n`;
}

/** Parses CSV text into rows of cells; quoted cells may hold commas, quotes and newlines. Returns each row's 1-based start line. */
export function parseCsv(text: string): { cells: string[]; line: number }[] {
  const rows: { cells: string[]; line: number }[] = [];
  let cells: string[] = [];
  let current = "";
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let rowHasContent = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          current += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === "\n") line++;
        current += c;
      }
      continue;
    }
    if (c === '"') {
      quoted = true;
      rowHasContent = true;
    } else if (c === ",") {
      cells.push(current);
      current = "";
      rowHasContent = true;
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      if (rowHasContent || current.length > 0) {
        cells.push(current);
        rows.push({ cells, line: rowLine });
      }
      cells = [];
      current = "";
      rowHasContent = false;
      line++;
      rowLine = line;
    } else {
      current += c;
      rowHasContent = true;
    }
  }
  if (rowHasContent || current.length > 0) {
    cells.push(current);
    rows.push({ cells, line: rowLine });
  }
  return rows;
}
