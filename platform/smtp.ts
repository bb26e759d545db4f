/**
 * A minimal SMTP client (RFC 5321) over workerd's `connect()`: one message per connection, which is
 * all the digests need. `smtps://` is TLS from the first byte (port 465); `smtp://` upgrades with
 * STARTTLS when the server offers it (587), and refuses to send a password in the clear to anything
 * but this machine. AUTH PLAIN, else LOGIN; MAIL FROM, RCPT TO, DATA (dot-stuffed), QUIT.
 *
 * Hand-written rather than `worker-mailer`: that library (one maintainer, a small user base) runs a
 * send queue of its own, reports failures as bare `Error` strings without the stage, and reads its
 * response timeout from the socket-timeout option; what we need is ~150 lines that fail as AppErrors
 * naming the stage and the server's words (a digest records them in `last_error`).
 */
import { connect } from "cloudflare:sockets";
import { AppError } from "../core/errors.ts";
import { buildMessage, dotStuff, type MailMessage, parseMailbox } from "../core/mail/mime.ts";

export type { MailMessage } from "../core/mail/mime.ts";

export interface SendOptions {
  /** Per reply (and for the connection); the whole exchange is a handful of them. */
  timeoutMs?: number;
  /** The Date header's instant. */
  now?: number;
}

export interface SmtpReply {
  code: number;
  text: string;
}

interface Transport {
  host: string;
  port: number;
  implicitTls: boolean;
  user: string;
  password: string;
}

function parseSmtpUrl(smtpUrl: string): Transport {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    throw new AppError("smtp_not_configured", 409, "SMTP_URL: is not a URL");
  }
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:")
    throw new AppError("smtp_not_configured", 409, "SMTP_URL: must start with smtp:// or smtps://");
  const implicitTls = url.protocol === "smtps:";
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: Number(url.port) || (implicitTls ? 465 : 587),
    implicitTls,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
}

const LOOPBACK = /^(?:127\.\d+\.\d+\.\d+|localhost|::1)$/;
const encoder = new TextEncoder();
const b64 = (s: string) => {
  let binary = "";
  for (const b of encoder.encode(s)) binary += String.fromCharCode(b);
  return btoa(binary);
};

const failure = (stage: string, detail: string, cause?: unknown) =>
  new AppError("delivery_failed", 502, `SMTP ${stage}: ${detail}`, { cause });

/** `work`, or a `delivery_failed` naming the stage once `ms` pass without it settling. */
async function within<T>(work: Promise<T>, ms: number, stage: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(failure(stage, `no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** One SMTP conversation: replies read line by line (multi-line `250-…` until `250 …`). */
class Session {
  #socket: Socket;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #decoder = new TextDecoder();
  #buffer = "";
  readonly #timeoutMs: number;

  constructor(socket: Socket, timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#socket = socket;
    this.#reader = socket.readable.getReader();
    this.#writer = socket.writable.getWriter();
  }

  async #line(stage: string): Promise<string> {
    for (;;) {
      const end = this.#buffer.indexOf("\n");
      if (end >= 0) {
        const line = this.#buffer.slice(0, end).replace(/\r$/, "");
        this.#buffer = this.#buffer.slice(end + 1);
        return line;
      }
      if (this.#buffer.length > 65_536) throw failure(stage, "the server sent a line longer than 64 KB");
      const chunk = await within(this.#reader.read(), this.#timeoutMs, stage);
      if (chunk.done) throw failure(stage, "the server closed the connection");
      this.#buffer += this.#decoder.decode(chunk.value, { stream: true });
    }
  }

  /** Reads one reply; anything but the expected codes (or a 4xx/5xx) is an AppError with the server's words. */
  async expect(stage: string, ...codes: number[]): Promise<SmtpReply> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.#line(stage);
      if (!/^\d{3}(?:[ -]|$)/.test(line))
        throw failure(stage, `unexpected reply ${JSON.stringify(line.slice(0, 200))}`);
      lines.push(line.slice(4));
      if (line[3] !== "-") {
        const reply = { code: Number(line.slice(0, 3)), text: lines.join("\n") };
        if (!codes.includes(reply.code)) throw failure(stage, `${reply.code} ${reply.text}`.trim());
        return reply;
      }
    }
  }

  async send(stage: string, text: string, ...codes: number[]): Promise<SmtpReply> {
    await this.write(text.endsWith("\r\n") ? text : `${text}\r\n`);
    return this.expect(stage, ...codes);
  }

  async write(text: string): Promise<void> {
    await this.#writer.write(encoder.encode(text));
  }

  /** STARTTLS: the same connection, TLS from here on (the old streams must be released first). */
  upgrade(host: string): void {
    this.#reader.releaseLock();
    this.#writer.releaseLock();
    this.#socket = this.#socket.startTls({ expectedServerHostname: host });
    this.#reader = this.#socket.readable.getReader();
    this.#writer = this.#socket.writable.getWriter();
    this.#buffer = "";
  }

  /** Resolves once the TCP (and, for smtps://, TLS) connection is up. */
  async opened(stage: string): Promise<void> {
    await within(this.#socket.opened, this.#timeoutMs, stage);
  }

  async close(): Promise<void> {
    await this.#socket.close().catch(() => undefined);
  }
}

/** EHLO (HELO for a server that knows only that): the extensions the server lists, upper-cased. */
async function hello(session: Session, name: string): Promise<string[]> {
  try {
    const reply = await session.send("EHLO", `EHLO ${name}`, 250);
    return reply.text
      .split("\n")
      .slice(1)
      .map((l) => l.trim().toUpperCase());
  } catch (error) {
    if (!(error instanceof AppError && /^SMTP EHLO: 50[02] /.test(error.message))) throw error;
    await session.send("HELO", `HELO ${name}`, 250);
    return [];
  }
}

async function authenticate(session: Session, t: Transport, extensions: string[]): Promise<void> {
  const auth = extensions.find((e) => e.startsWith("AUTH ") || e.startsWith("AUTH=")) ?? "";
  const mechanisms = auth.slice(5).split(/\s+/);
  if (mechanisms.includes("LOGIN") && !mechanisms.includes("PLAIN")) {
    await session.send("AUTH LOGIN", "AUTH LOGIN", 334);
    await session.send("AUTH LOGIN (user)", b64(t.user), 334);
    await session.send("AUTH LOGIN (password)", b64(t.password), 235);
    return;
  }
  await session.send("AUTH PLAIN", `AUTH PLAIN ${b64(`\0${t.user}\0${t.password}`)}`, 235);
}

/**
 * Sends one message through `smtpUrl`. Resolves once the server accepted it (250 after DATA);
 * any refusal, a dropped connection or a silent server is an AppError `delivery_failed` (502)
 * whose message names the stage and what the server said.
 */
export async function sendMail(
  smtpUrl: string,
  message: MailMessage,
  options: SendOptions = {},
): Promise<{ messageId: string }> {
  const t = parseSmtpUrl(smtpUrl);
  const timeoutMs = options.timeoutMs ?? 20_000;
  const from = parseMailbox(message.from).address;
  const to = parseMailbox(message.to).address;
  const domain = from.split("@")[1] ?? "localhost";
  const messageId = `${crypto.randomUUID()}@${domain}`;
  const data = dotStuff(
    buildMessage(message, { date: options.now ?? Date.now(), messageId, boundary: `=_${crypto.randomUUID()}` }),
  );
  let socket: Socket;
  try {
    socket = connect(
      { hostname: t.host, port: t.port },
      {
        secureTransport: t.implicitTls ? "on" : "starttls",
        allowHalfOpen: false,
      },
    );
  } catch (error) {
    throw failure("connect", `${t.host}:${t.port}: ${String(error)}`, error);
  }
  const session = new Session(socket, timeoutMs);
  try {
    await session.opened(`connect to ${t.host}:${t.port}`);
    await session.expect("greeting", 220);
    let extensions = await hello(session, domain);
    if (!t.implicitTls && extensions.includes("STARTTLS")) {
      await session.send("STARTTLS", "STARTTLS", 220);
      session.upgrade(t.host);
      extensions = await hello(session, domain);
    } else if (!t.implicitTls && t.user && !LOOPBACK.test(t.host)) {
      throw failure("STARTTLS", `${t.host} does not offer STARTTLS; the password is not sent in the clear`);
    }
    if (t.user) await authenticate(session, t, extensions);
    await session.send("MAIL FROM", `MAIL FROM:<${from}>`, 250);
    await session.send("RCPT TO", `RCPT TO:<${to}>`, 250, 251);
    await session.send("DATA", "DATA", 354);
    await session.write(data);
    await session.expect("end of data", 250);
    // The message is accepted; a server that hangs up instead of answering QUIT changes nothing.
    await session.send("QUIT", "QUIT", 221).catch(() => undefined);
    return { messageId };
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw failure("connection", `${t.host}:${t.port}: ${String(error)}`, error);
  } finally {
    await session.close();
  }
}
