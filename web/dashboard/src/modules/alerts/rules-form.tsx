/**
 * A property's alert rules and webhook (`GET/PUT …/alert-rules`): what to watch, how sensitive, how
 * many notifications a day, and where they go. The signing secret of a new webhook is answered once
 * and shown once, with a copy button; "Send test" posts a signed test notification now.
 */
import { type FormEvent, type ReactNode, useState } from "react";
import { ApiError, api, explain } from "../../api.ts";
import { useDash } from "../../context.ts";
import {
  type AlertKind,
  type AlertRules,
  fieldErrors,
  KIND_LABELS,
  KINDS,
  type RulesAnswer,
  type TestAnswer,
} from "./model.ts";

type NumberField =
  | "threshold"
  | "consecutive_minutes"
  | "silence_minutes"
  | "max_per_day"
  | "min_pageviews_per_minute"
  | "bot_share_jump"
  | "refused_share_jump"
  | "source_min_share";

interface Draft {
  enabled: boolean;
  numbers: Record<NumberField, string>;
  kinds: AlertKind[];
  url: string;
  format: "json" | "slack";
}

function draftOf(rules: AlertRules): Draft {
  const { enabled, kinds, webhook, ...rest } = rules;
  const numbers = Object.fromEntries((Object.keys(rest) as NumberField[]).map((k) => [k, String(rest[k])])) as Record<
    NumberField,
    string
  >;
  return { enabled, numbers, kinds: [...kinds], url: webhook?.url ?? "", format: webhook?.format ?? "json" };
}

/** The whole form as a patch; an empty URL removes the webhook. */
function patchOf(draft: Draft): Record<string, unknown> {
  const numbers = Object.fromEntries(
    Object.entries(draft.numbers).map(([k, v]) => [k, v.trim() === "" ? v : Number(v)]),
  );
  return {
    enabled: draft.enabled,
    ...numbers,
    kinds: draft.kinds,
    webhook: draft.url.trim() ? { url: draft.url.trim(), format: draft.format } : null,
  };
}

const NUMBERS: { key: NumberField; label: string; step: string; min: number; max: number; advanced?: boolean }[] = [
  { key: "threshold", label: "Threshold (deviations from the usual)", step: "0.5", min: 2, max: 20 },
  { key: "consecutive_minutes", label: "Minutes in a row before alerting (k)", step: "1", min: 1, max: 60 },
  { key: "silence_minutes", label: "Silent minutes before “tracking stopped”", step: "1", min: 5, max: 1440 },
  { key: "max_per_day", label: "Notifications per 24 hours at most", step: "1", min: 0, max: 100 },
  {
    key: "min_pageviews_per_minute",
    label: "Ignore sites under (pageviews a minute)",
    step: "1",
    min: 0,
    max: 1e6,
    advanced: true,
  },
  { key: "bot_share_jump", label: "Bot share jump (0–1)", step: "0.05", min: 0, max: 1, advanced: true },
  { key: "refused_share_jump", label: "Refused share jump (0–1)", step: "0.05", min: 0, max: 1, advanced: true },
  {
    key: "source_min_share",
    label: "Watch sources above this share (0–1)",
    step: "0.05",
    min: 0,
    max: 1,
    advanced: true,
  },
];

function FieldError({ id, text }: { id: string; text: string | undefined }) {
  if (!text) return null;
  return (
    <span className="field-error" id={id} data-testid={`error-${id}`}>
      {text}
    </span>
  );
}

export function RulesForm({ initial, onSaved }: { initial: AlertRules; onSaved: (rules: AlertRules) => void }) {
  const { property, token } = useDash();
  const base = `/api/v1/properties/${encodeURIComponent(property)}/alert-rules`;
  const [draft, setDraft] = useState(() => draftOf(initial));
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<{ fields: Record<string, string>; rest: string[] }>({ fields: {}, rest: [] });
  const [saved, setSaved] = useState(false);
  const [secret, setSecret] = useState<string>();
  const [test, setTest] = useState<{ ok: boolean; text: string }>();
  const setNumber = (key: NumberField, value: string) =>
    setDraft((d) => ({ ...d, numbers: { ...d.numbers, [key]: value } }));
  const toggleKind = (kind: AlertKind, on: boolean) =>
    setDraft((d) => ({ ...d, kinds: on ? [...d.kinds, kind] : d.kinds.filter((k) => k !== kind) }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setSaved(false);
    setErrors({ fields: {}, rest: [] });
    try {
      const answer = await api<RulesAnswer>(token, base, { method: "PUT", body: patchOf(draft) });
      setDraft(draftOf(answer.rules));
      // A later save answers no secret: the one shown stays until the page is left (or the webhook removed).
      setSecret((shown) => answer.webhook_secret ?? (answer.rules.webhook ? shown : undefined));
      setSaved(true);
      onSaved(answer.rules);
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) setErrors(fieldErrors(error.message));
      else {
        const { title, detail } = explain(error);
        setErrors({ fields: {}, rest: [`${title} ${detail}`] });
      }
    } finally {
      setBusy(false);
    }
  };

  const sendTest = async () => {
    setTest(undefined);
    try {
      const answer = await api<TestAnswer>(token, `${base}/test`, { method: "POST" });
      setTest({
        ok: answer.delivered,
        text: answer.delivered
          ? `Delivered: the receiver answered ${answer.status}.`
          : `Not delivered${answer.status ? ` (HTTP ${answer.status})` : ""}${answer.error ? `: ${answer.error}` : "."}`,
      });
    } catch (error) {
      const { title, detail } = explain(error);
      setTest({ ok: false, text: `${title} ${detail}` });
    }
  };

  const rotate = async () => {
    try {
      setSecret(
        (await api<{ webhook_secret: string }>(token, `${base}/rotate-secret`, { method: "POST" })).webhook_secret,
      );
    } catch (error) {
      const { title, detail } = explain(error);
      setErrors({ fields: {}, rest: [`${title} ${detail}`] });
    }
  };

  const numberInput = (n: (typeof NUMBERS)[number]): ReactNode => (
    <label key={n.key}>
      {n.label}
      <input
        type="number"
        name={n.key}
        step={n.step}
        min={n.min}
        max={n.max}
        value={draft.numbers[n.key]}
        onChange={(e) => setNumber(n.key, e.target.value)}
        aria-invalid={Boolean(errors.fields[n.key])}
        aria-describedby={errors.fields[n.key] ? n.key : undefined}
      />
      <FieldError id={n.key} text={errors.fields[n.key]} />
    </label>
  );
  const webhookSaved = Boolean(initial.webhook);

  return (
    <form className="rules-form" onSubmit={submit} data-testid="alert-rules" noValidate>
      {errors.rest.length > 0 && (
        <div className="state error" role="alert" data-testid="rules-error">
          {errors.rest.map((r) => (
            <span key={r}>{r}</span>
          ))}
        </div>
      )}
      <label className="check">
        <input
          type="checkbox"
          checked={draft.enabled}
          onChange={(e) => setDraft((d) => ({ ...d, enabled: e.target.checked }))}
        />
        Watch this property's traffic and alert on anomalies
      </label>
      <div className="fields">{NUMBERS.filter((n) => !n.advanced).map(numberInput)}</div>
      <fieldset>
        <legend>Alert on</legend>
        {KINDS.map((kind) => (
          <label className="check" key={kind}>
            <input
              type="checkbox"
              name="kinds"
              value={kind}
              checked={draft.kinds.includes(kind)}
              onChange={(e) => toggleKind(kind, e.target.checked)}
            />
            {KIND_LABELS[kind]}
          </label>
        ))}
        <FieldError id="kinds" text={errors.fields.kinds} />
      </fieldset>
      <details>
        <summary>Advanced</summary>
        <div className="fields">{NUMBERS.filter((n) => n.advanced).map(numberInput)}</div>
      </details>
      <fieldset>
        <legend>Webhook</legend>
        <div className="fields">
          <label>
            URL (https; http only for localhost) — empty: no notifications
            <input
              type="url"
              name="webhook_url"
              value={draft.url}
              placeholder="https://hooks.example.com/tally"
              onChange={(e) => setDraft((d) => ({ ...d, url: e.target.value }))}
              aria-invalid={Boolean(errors.fields["webhook.url"] ?? errors.fields.webhook)}
            />
            <FieldError id="webhook.url" text={errors.fields["webhook.url"] ?? errors.fields.webhook} />
          </label>
          <label>
            Format
            <select
              name="webhook_format"
              value={draft.format}
              onChange={(e) => setDraft((d) => ({ ...d, format: e.target.value === "slack" ? "slack" : "json" }))}
            >
              <option value="json">JSON (signed, for your own receiver)</option>
              <option value="slack">Slack-compatible text</option>
            </select>
            <FieldError id="webhook.format" text={errors.fields["webhook.format"]} />
          </label>
        </div>
        {secret && (
          <div className="secret" role="status" data-testid="webhook-secret">
            <span>
              Signing secret (shown only now; receivers check <code>Tally-Signature</code> with it):
            </span>
            <code data-testid="webhook-secret-value">{secret}</code>
            <button type="button" onClick={() => void navigator.clipboard?.writeText(secret)}>
              Copy
            </button>
          </div>
        )}
        {webhookSaved && (
          <div className="inline-form">
            <button type="button" onClick={() => void sendTest()} data-testid="send-test">
              Send test
            </button>
            <button type="button" className="link" onClick={() => void rotate()}>
              Make a new signing secret
            </button>
            {test && (
              <span className={test.ok ? "up" : "down"} role="status" data-testid="test-result">
                {test.text}
              </span>
            )}
          </div>
        )}
      </fieldset>
      <div className="inline-form">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Saving…" : "Save rules"}
        </button>
        {saved && (
          <span className="muted" role="status" data-testid="rules-saved">
            Saved.
          </span>
        )}
      </div>
    </form>
  );
}
