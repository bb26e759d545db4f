/**
 * An email as RFC 5322 / MIME text: multipart/alternative with a plain-text and an HTML part, both
 * UTF-8 in quoted-printable (readable in the raw message, short lines), an RFC 2047 subject, CRLF
 * line ends. Pure, so the wire format is unit-tested in Node; platform/smtp.ts sends it (and
 * dot-stuffs it: a quoted-printable line may start with ".").
 */
const encoder = new TextEncoder();

export interface MailMessage {
  /** `Tally <reports@example.com>` or a bare address. */
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Extra headers (List-Unsubscribe …); names are tokens, values one line. */
  headers?: Record<string, string>;
}

/** The address and display name of `Name <addr>` or `addr`. */
export function parseMailbox(mailbox: string): { name: string; address: string } {
  const match = /^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(mailbox);
  if (match) return { name: (match[1] ?? "").replace(/^"(.*)"$/, "$1"), address: match[2] ?? "" };
  return { name: "", address: mailbox.trim() };
}

const hex = (b: number) => `=${b.toString(16).toUpperCase().padStart(2, "0")}`;

/** Quoted-printable (RFC 2045 §6.7) of UTF-8 text: lines of at most 76 characters, CRLF hard breaks. */
export function quotedPrintable(text: string): string {
  return text
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => {
      const bytes = encoder.encode(line);
      let out = "";
      let current = "";
      bytes.forEach((b, i) => {
        const last = i === bytes.length - 1;
        // Spaces and tabs stay literal except at a line's end, where transports may strip them.
        const literal = (b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last);
        const token = literal ? String.fromCharCode(b) : hex(b);
        if (current.length + token.length > 75) {
          out += `${current}=\r\n`; // a soft line break
          current = "";
        }
        current += token;
      });
      return out + current;
    })
    .join("\r\n");
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * A header value as RFC 2047 encoded words when it is not plain printable ASCII: `=?UTF-8?B?…?=`,
 * each word at most 75 characters and split between characters, never inside one.
 */
export function encodeWords(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value) && !value.includes("=?")) return value;
  const words: string[] = [];
  let chunk: number[] = [];
  for (const ch of value) {
    const bytes = [...encoder.encode(ch)];
    // 45 bytes → 60 base64 characters, + 12 for `=?UTF-8?B?` and `?=`.
    if (chunk.length + bytes.length > 45) {
      words.push(`=?UTF-8?B?${base64(Uint8Array.from(chunk))}?=`);
      chunk = [];
    }
    chunk.push(...bytes);
  }
  if (chunk.length > 0) words.push(`=?UTF-8?B?${base64(Uint8Array.from(chunk))}?=`);
  return words.join("\r\n ");
}

/** `Name <addr>` with the name encoded as needed; the address as it is. */
function formatMailbox(mailbox: string): string {
  const { name, address } = parseMailbox(mailbox);
  if (!name) return address;
  const plain = /^[\w !#$%&'*+\-/=?^`{|}~.]*$/.test(name);
  return `${plain ? `"${name}"` : encodeWords(name)} <${address}>`;
}

/** RFC 5322's date: `Mon, 30 Nov 2026 07:10:00 +0000`. */
export const mailDate = (ms: number) => new Date(ms).toUTCString().replace(/GMT$/, "+0000");

const HEADER_NAME = /^[!-9;-~]+$/;

/** One header line; a line break in a value would start a header of the caller's choosing, so it is refused. */
function header(name: string, value: string): string {
  if (!HEADER_NAME.test(name)) throw new Error(`mail header name ${JSON.stringify(name)} is not a token`);
  if (/[\r\n]/.test(value)) throw new Error(`mail header ${name} holds a line break`);
  return `${name}: ${value}`;
}

/**
 * The whole message, CRLF-terminated lines, ready for DATA (before dot-stuffing). `messageId` is
 * without angle brackets; `boundary` must not occur in the bodies (a random one does not).
 */
export function buildMessage(
  message: MailMessage,
  meta: { date: number; messageId: string; boundary: string },
): string {
  for (const address of [parseMailbox(message.from).address, parseMailbox(message.to).address])
    if (!/^[^\s<>@]+@[^\s<>@]+$/.test(address)) throw new Error(`${JSON.stringify(address)} is not an email address`);
  const subject = message.subject.replace(/[\r\n]+/g, " ");
  const lines = [
    header("From", formatMailbox(message.from)),
    header("To", formatMailbox(message.to)),
    `Subject: ${encodeWords(subject)}`,
    header("Date", mailDate(meta.date)),
    header("Message-ID", `<${meta.messageId}>`),
    "MIME-Version: 1.0",
    ...Object.entries(message.headers ?? {}).map(([name, value]) => header(name, value)),
    header("Content-Type", `multipart/alternative; boundary="${meta.boundary}"`),
    "",
    `--${meta.boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    quotedPrintable(message.text),
    `--${meta.boundary}`,
    "Content-Type: text/html; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    quotedPrintable(message.html),
    `--${meta.boundary}--`,
    "",
  ];
  return lines.join("\r\n");
}

/** SMTP's transparency (RFC 5321 §4.5.2): a line starting with "." gets another; ends with `CRLF.CRLF`. */
export function dotStuff(message: string): string {
  const body = message.replace(/\r?\n/g, "\r\n").replace(/(^|\r\n)\./g, "$1..");
  return `${body.endsWith("\r\n") ? body : `${body}\r\n`}.\r\n`;
}
