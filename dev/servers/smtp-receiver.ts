/**
 * A local mail catcher for the dev stack and the tests: an SMTP server (`smtp-server`) on the
 * loopback address that accepts any login and keeps every message in memory (parsed by
 * `mailparser`, optionally also written as .eml files), and an HTTP port to look at them and to
 * stand in for a Slack incoming webhook. Development and tests only.
 *
 * HTTP: `GET /messages` → `[{from, to, subject, text, html, headers, raw, auth}]` (oldest first),
 * `DELETE /messages`; `POST /webhook/<anything>` records the JSON body and answers `ok` (as Slack
 * does), `POST /webhook/status/<code>[/<anything>]` answers that status instead (a failing webhook),
 * `GET /webhook` → `[{path, body}]`, `DELETE /webhook`.
 *
 * Refusals, so a client's error paths can be tested: a recipient whose local part starts with
 * `refuse` gets `550 5.1.1`, and the password `refuse` gets `535 5.7.8`. No STARTTLS is offered
 * (there is no certificate workerd would trust), so clients talk to it in the clear.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer, type SMTPServerAddress } from "smtp-server";

export interface SmtpReceiverOptions {
  /** 0 or omitted: a free port. */
  smtpPort?: number;
  httpPort?: number;
  /** Also write each message as `<n>-<time>.eml` here. */
  folder?: string;
}

export interface ReceivedMessage {
  /** The envelope's sender and recipients (MAIL FROM, RCPT TO). */
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** Header lines by lower-case name, as sent (unfolded, not decoded); the last one wins. */
  headers: Record<string, string>;
  /** The message as received (after SMTP's dot-unstuffing). */
  raw: string;
  /** The login the client used, or null when it sent none. */
  auth: { username: string; password: string } | null;
}

export interface WebhookCall {
  path: string;
  body: unknown;
}

export interface RunningSmtpReceiver {
  smtpPort: number;
  httpPort: number;
  /** `smtp://dev:dev@127.0.0.1:<port>`: what SMTP_URL should be. */
  smtpUrl: string;
  /** `http://127.0.0.1:<httpPort>` */
  httpUrl: string;
  messages: ReceivedMessage[];
  webhooks: WebhookCall[];
  close(): Promise<void>;
}

const HOST = "127.0.0.1";
const MAX_BYTES = 10 * 1024 * 1024;

function headerLines(mail: ParsedMail): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { key, line } of mail.headerLines)
    headers[key] = line
      .slice(line.indexOf(":") + 1)
      .replace(/\r?\n[ \t]+/g, " ")
      .trim();
  return headers;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BYTES) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Resolves once `start` listens; rejects on the server's first error (a port in use). */
function listening(
  server: { once(event: "error", cb: (e: Error) => void): unknown },
  start: (ready: () => void) => void,
) {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    start(resolve);
  });
}

/** Starts both ports; `close()` stops them. */
export async function startSmtpReceiver(options: SmtpReceiverOptions = {}): Promise<RunningSmtpReceiver> {
  const messages: ReceivedMessage[] = [];
  const webhooks: WebhookCall[] = [];
  if (options.folder) mkdirSync(options.folder, { recursive: true });
  const logins = new WeakMap<object, { username: string; password: string }>();

  const smtp = new SMTPServer({
    secure: false,
    disabledCommands: ["STARTTLS"],
    authOptional: true,
    allowInsecureAuth: true,
    authMethods: ["PLAIN", "LOGIN"],
    size: MAX_BYTES,
    logger: false,
    // close() otherwise waits up to 30 s for clients that did not say QUIT.
    closeTimeout: 500,
    banner: "Tally dev mail receiver",
    onAuth(auth, session, callback) {
      if (auth.password === "refuse")
        return callback(Object.assign(new Error("5.7.8 Authentication refused"), { responseCode: 535 }));
      logins.set(session, { username: auth.username ?? "", password: auth.password ?? "" });
      callback(null, { user: auth.username });
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      if (/^refuse/i.test(address.address))
        return callback(
          Object.assign(new Error(`5.1.1 <${address.address}>: mailbox unavailable`), { responseCode: 550 }),
        );
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        simpleParser(raw).then(
          (mail) => {
            const message: ReceivedMessage = {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: mail.subject ?? "",
              text: mail.text ?? "",
              html: typeof mail.html === "string" ? mail.html : "",
              headers: headerLines(mail),
              raw,
              auth: logins.get(session) ?? null,
            };
            messages.push(message);
            if (options.folder) writeFileSync(join(options.folder, `${messages.length}-${Date.now()}.eml`), raw);
            callback();
          },
          (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
        );
      });
    },
  });
  smtp.on("error", (error) => console.warn(`smtp-receiver: ${error.message}`));

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(400, { "Content-Type": "text/plain" }).end(String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", `http://${HOST}`).pathname;
    const json = (value: unknown) =>
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(value));
    if (path === "/messages" && req.method === "GET") return void json(messages);
    if (path === "/messages" && req.method === "DELETE") {
      messages.length = 0;
      return void res.writeHead(204).end();
    }
    if (path === "/webhook" && req.method === "GET") return void json(webhooks);
    if (path === "/webhook" && req.method === "DELETE") {
      webhooks.length = 0;
      return void res.writeHead(204).end();
    }
    if (path.startsWith("/webhook/") && req.method === "POST") {
      const text = await readBody(req);
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text: the caller sent something that is not JSON, which a test may want to see
      }
      webhooks.push({ path, body });
      const status = /^\/webhook\/status\/(\d{3})(?:\/|$)/.exec(path)?.[1];
      const code = status ? Number(status) : 200;
      return void res.writeHead(code, { "Content-Type": "text/plain" }).end(code === 200 ? "ok" : "no_service");
    }
    res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
  }

  await listening(smtp.server, (ready) => smtp.listen(options.smtpPort ?? 0, HOST, ready));
  try {
    await listening(http, (ready) => http.listen(options.httpPort ?? 0, HOST, ready));
  } catch (error) {
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    throw error;
  }
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  const httpPort = (http.address() as AddressInfo).port;
  return {
    smtpPort,
    httpPort,
    smtpUrl: `smtp://dev:dev@${HOST}:${smtpPort}`,
    httpUrl: `http://${HOST}:${httpPort}`,
    messages,
    webhooks,
    async close() {
      http.closeAllConnections();
      await Promise.all([
        new Promise<void>((resolve) => smtp.close(() => resolve())),
        new Promise<void>((resolve) => http.close(() => resolve())),
      ]);
    },
  };
}
