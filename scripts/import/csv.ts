/**
 * RFC 4180 CSV, fed one physical line at a time so a file is never held whole: quoted fields may
 * hold commas, doubled quotes ("") and line breaks, so one record can span several lines; a record
 * is named by the line it starts on. Pure.
 */

export type CsvItem =
  | { kind: "record"; line: number; fields: string[] }
  | { kind: "error"; line: number; message: string };

/** A quoted field still open after this many characters is taken for an unterminated quote. */
export const MAX_CSV_RECORD_CHARS = 1024 * 1024;

/** A stateful parser: `line()` per physical line (without its line break), `end()` once at the end. */
export interface CsvParser {
  line(text: string, lineNo: number): CsvItem | undefined;
  end(): CsvItem | undefined;
}

export function createCsvParser(maxRecordChars = MAX_CSV_RECORD_CHARS): CsvParser {
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  let open = false; // inside a quoted field that continues on the next line
  let start = 0;
  let chars = 0;

  const reset = () => {
    fields = [];
    field = "";
    quoted = false;
    open = false;
    chars = 0;
  };
  const fail = (message: string): CsvItem => {
    const item: CsvItem = { kind: "error", line: start, message };
    reset();
    return item;
  };

  return {
    line(text, lineNo) {
      let i = 0;
      /** Inside quotes at text[i]: reads to the closing quote, unescaping "", or to the end of the line. */
      const readQuoted = (): void => {
        for (;;) {
          const q = text.indexOf('"', i);
          if (q < 0) {
            field += text.slice(i);
            i = text.length;
            open = true;
            return;
          }
          field += text.slice(i, q);
          if (text[q + 1] !== '"') {
            i = q + 1;
            return;
          }
          field += '"';
          i = q + 2;
        }
      };
      if (!open) {
        // The common case, a line with no quotes: a plain split.
        if (!text.includes('"'))
          return text === "" ? undefined : { kind: "record", line: lineNo, fields: text.split(",") };
        start = lineNo;
      } else field += "\n";
      chars += text.length + 1;
      if (open) {
        open = false;
        readQuoted();
      }
      while (!open) {
        if (quoted) {
          // Just after a closing quote: only a separator or the end of the record may follow.
          if (i >= text.length) break;
          if (text[i] !== ",") return fail(`unexpected ${JSON.stringify(text[i])} after a closing quote`);
          fields.push(field);
          field = "";
          quoted = false;
          i++;
          if (i >= text.length) break;
        }
        if (text[i] === '"') {
          quoted = true;
          i++;
          readQuoted();
          continue;
        }
        // An unquoted field runs to the next separator; a quote inside it is kept as text.
        const comma = text.indexOf(",", i);
        if (comma < 0) {
          field += text.slice(i);
          break;
        }
        fields.push(field + text.slice(i, comma));
        field = "";
        i = comma + 1;
        if (i >= text.length) break;
      }
      if (open) {
        if (chars > maxRecordChars)
          return fail(
            `a quoted field opened here is still open after ${maxRecordChars} characters (unterminated quote?)`,
          );
        return undefined;
      }
      fields.push(field);
      const record: CsvItem = { kind: "record", line: start, fields };
      reset();
      return record;
    },
    end() {
      return open ? fail("a quoted field opened here is never closed") : undefined;
    },
  };
}
