/**
 * digest-mime: the digests' messages on the wire (core/mail/mime.ts): headers, RFC 2047 subjects,
 * quoted-printable bodies with short lines, and SMTP dot-stuffing.
 */
import { describe, expect, it } from "vitest";
import { buildMessage, dotStuff, encodeWords, mailDate, parseMailbox, quotedPrintable } from "../../core/mail/mime.ts";

/** Decodes quoted-printable back to text (soft breaks joined, =XX as bytes, UTF-8). */
function decodeQp(qp: string): string {
  const joined = qp.replace(/=\r\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    if (joined[i] === "=") {
      bytes.push(Number.parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(joined.charCodeAt(i));
  }
  return new TextDecoder().decode(Uint8Array.from(bytes)).replace(/\r\n/g, "\n");
}

function decodeWords(value: string): string {
  return value
    .split("\r\n ")
    .map((w) => /^=\?UTF-8\?B\?(.*)\?=$/.exec(w)?.[1] ?? "")
    .map((b) => Buffer.from(b, "base64"))
    .reduce((all, part) => Buffer.concat([all, part]), Buffer.alloc(0))
    .toString("utf8");
}

describe("quotedPrintable", () => {
  const text = `Grüße aus Köln — ${"x".repeat(200)} = done \nline two\t\n.dot\n`;

  it("round-trips UTF-8 text with lines of at most 76 characters", () => {
    const qp = quotedPrintable(text);
    expect(decodeQp(qp)).toBe(text);
    for (const line of qp.split("\r\n")) expect(line.length).toBeLessThanOrEqual(76);
    expect(qp).toContain("=3D");
  });

  it("encodes trailing spaces and tabs, which transports strip", () => {
    expect(quotedPrintable("a \nb\t")).toBe("a=20\r\nb=09");
  });
});

describe("encodeWords", () => {
  it("leaves plain ASCII alone and encodes the rest in words of at most 75 characters", () => {
    expect(encodeWords("Weekly report")).toBe("Weekly report");
    const subject = `Relatório semanal — ${"é".repeat(60)} 📈`;
    const encoded = encodeWords(subject);
    for (const word of encoded.split("\r\n ")) expect(word.length).toBeLessThanOrEqual(75);
    expect(decodeWords(encoded)).toBe(subject);
  });
});

describe("buildMessage", () => {
  const meta = { date: Date.parse("2026-11-30T07:10:00Z"), messageId: "m1@example.com", boundary: "=_b1" };
  const raw = buildMessage(
    {
      from: "Tally Reports <reports@example.com>",
      to: "ana@example.org",
      subject: "Übersicht",
      text: "hello",
      html: "<p>hello</p>",
      headers: { "List-Unsubscribe": "<https://x.test/u>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" },
    },
    meta,
  );

  it("has the headers a mail client expects, and two alternative parts", () => {
    const head = raw.slice(0, raw.indexOf("\r\n\r\n"));
    const body = raw.slice(head.length + 4);
    expect(head.split("\r\n")).toEqual([
      'From: "Tally Reports" <reports@example.com>',
      "To: ana@example.org",
      "Subject: =?UTF-8?B?w5xiZXJzaWNodA==?=",
      "Date: Mon, 30 Nov 2026 07:10:00 +0000",
      "Message-ID: <m1@example.com>",
      "MIME-Version: 1.0",
      "List-Unsubscribe: <https://x.test/u>",
      "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
      'Content-Type: multipart/alternative; boundary="=_b1"',
    ]);
    expect(body).toContain("--=_b1\r\nContent-Type: text/plain; charset=utf-8\r\n");
    expect(body).toContain("--=_b1\r\nContent-Type: text/html; charset=utf-8\r\n");
    expect(body.endsWith("--=_b1--\r\n")).toBe(true);
    expect(raw).not.toMatch(/[^\r]\n/);
  });

  it("refuses a header value with a line break and an address that is not one", () => {
    const base = { from: "a@b.c", to: "d@e.f", subject: "s", text: "", html: "" };
    expect(() => buildMessage({ ...base, headers: { "X-A": "1\r\nBcc: x@evil.test" } }, meta)).toThrow(/line break/);
    expect(() => buildMessage({ ...base, to: "d@e.f>\r\nRCPT TO:<x@y.z" }, meta)).toThrow(/not an email address/);
    expect(buildMessage({ ...base, subject: "a\r\nBcc: x@evil.test" }, meta)).toContain(
      "Subject: a Bcc: x@evil.test\r\n",
    );
  });
});

describe("dotStuff", () => {
  it("doubles a leading dot on every line and ends the data with CRLF.CRLF", () => {
    expect(dotStuff(".a\r\nb\r\n.\r\n..c\r\n")).toBe("..a\r\nb\r\n..\r\n...c\r\n.\r\n");
    expect(dotStuff("x")).toBe("x\r\n.\r\n");
  });
});

describe("mailboxes and dates", () => {
  it("parses a display name and address, quoted or not", () => {
    expect(parseMailbox('"Tally" <r@x.io>')).toEqual({ name: "Tally", address: "r@x.io" });
    expect(parseMailbox("r@x.io")).toEqual({ name: "", address: "r@x.io" });
    expect(mailDate(0)).toBe("Thu, 01 Jan 1970 00:00:00 +0000");
  });
});
