/**
 * smtp: platform/smtp.ts in workerd, over `cloudflare:sockets`, against the local mail receiver
 * (dev/servers/smtp-receiver.ts, TEST_SMTP_URL / TEST_SMTP_INBOX): text and HTML arrive intact, a
 * unicode subject, lines starting with a dot, the login, extra headers; refusals and a closed port
 * are AppErrors naming the stage and what the server said.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../../core/errors.ts";
import type { ReceivedMessage } from "../../dev/servers/smtp-receiver.ts";
import { sendMail } from "../../platform/smtp.ts";

const testEnv = env as typeof env & { TEST_SMTP_URL: string; TEST_SMTP_INBOX: string };

async function inbox(): Promise<ReceivedMessage[]> {
  return (await fetch(`${testEnv.TEST_SMTP_INBOX}/messages`)).json<ReceivedMessage[]>();
}

/** The one message sent to `to` (addresses are unique per test, so files running at once do not mix). */
async function received(to: string): Promise<ReceivedMessage> {
  const found = (await inbox()).filter((m) => m.to.includes(to));
  expect(found).toHaveLength(1);
  return found[0] as ReceivedMessage;
}

const unique = (name: string) => `${name}-${crypto.randomUUID().slice(0, 8)}@example.org`;

async function failure(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("sendMail", () => {
  let to: string;
  beforeEach(() => {
    to = unique("ana");
  });

  it("delivers the text and HTML parts, a unicode subject and the extra headers, after logging in", async () => {
    const subject = "Übersicht für Köln — 📈 weekly report, 23 Nov 2026 – 29 Nov 2026, with a long tail to fold";
    const html = '<p>Visitors <b>1,234</b> &amp; more — “quoted”</p>\n<a href="https://x.test/?a=1&amp;b=2">link</a>';
    const { messageId } = await sendMail(testEnv.TEST_SMTP_URL, {
      from: "Tally Reports <reports@tally.test>",
      to,
      subject,
      text: "Visitors 1,234 +12%\nBounce rate 42% −3 pts\nÄrger? Nein.",
      html,
      headers: {
        "List-Unsubscribe": "<https://tally.test/api/v1/digests/unsubscribe?property_id=p&digest_id=d&token=t>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
      },
    });
    const m = await received(to);
    expect(m.from).toBe("reports@tally.test");
    expect(m.auth).toEqual({ username: "user", password: "pass" });
    expect(m.subject).toBe(subject);
    expect(m.text).toBe("Visitors 1,234 +12%\nBounce rate 42% −3 pts\nÄrger? Nein.");
    expect(m.html).toBe(html);
    expect(m.headers["message-id"]).toBe(`<${messageId}>`);
    expect(m.headers["list-unsubscribe-post"]).toBe("List-Unsubscribe=One-Click");
    expect(m.headers["list-unsubscribe"]).toContain("digest_id=d&token=t");
    expect(Date.parse(m.headers.date ?? "")).toBeGreaterThan(Date.now() - 60_000);
    for (const line of m.raw.split("\r\n")) expect(line.length).toBeLessThanOrEqual(998);
  });

  it("dot-stuffs lines starting with a dot, so a lone '.' does not end the message early", async () => {
    const text = ".hidden line\n.\n..two dots\nlast line";
    await sendMail(testEnv.TEST_SMTP_URL, {
      from: "reports@tally.test",
      to,
      subject: "dots",
      text,
      html: `<pre>\n.\n${text}</pre>`,
    });
    const m = await received(to);
    expect(m.text).toBe(text);
    expect(m.html).toBe(`<pre>\n.\n${text}</pre>`);
  });

  it("sends no login when the URL has none", async () => {
    const url = new URL(testEnv.TEST_SMTP_URL);
    await sendMail(`smtp://${url.host}`, {
      from: "reports@tally.test",
      to,
      subject: "anonymous",
      text: "t",
      html: "<p>t</p>",
    });
    expect((await received(to)).auth).toBeNull();
  });

  it("fails with the stage and the server's words when the recipient is refused", async () => {
    const refused = unique("refuse");
    const error = await failure(
      sendMail(testEnv.TEST_SMTP_URL, { from: "reports@tally.test", to: refused, subject: "s", text: "t", html: "h" }),
    );
    expect(error.code).toBe("delivery_failed");
    expect(error.status).toBe(502);
    expect(error.message).toMatch(/^SMTP RCPT TO: 550 5\.1\.1 <refuse-[0-9a-f]{8}@example\.org>: mailbox unavailable$/);
    expect((await inbox()).some((m) => m.to.includes(refused))).toBe(false);
  });

  it("fails at AUTH when the login is refused", async () => {
    const url = new URL(testEnv.TEST_SMTP_URL);
    url.password = "refuse";
    const error = await failure(
      sendMail(url.toString(), { from: "reports@tally.test", to, subject: "s", text: "t", html: "h" }),
    );
    expect(error.message).toMatch(/^SMTP AUTH PLAIN: 535 /);
    expect((await inbox()).some((m) => m.to.includes(to))).toBe(false);
  });

  it("fails naming the connection when nothing listens on the port", async () => {
    const error = await failure(
      sendMail(
        "smtp://127.0.0.1:9",
        { from: "reports@tally.test", to, subject: "s", text: "t", html: "h" },
        { timeoutMs: 5_000 },
      ),
    );
    expect(error.code).toBe("delivery_failed");
    expect(error.message).toMatch(/^SMTP (connect to 127\.0\.0\.1:9|greeting|connection)/);
  });
});
