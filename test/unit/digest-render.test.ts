/**
 * digest-render: a digest's overview as an email (subject, plain text, escaped HTML) and as a
 * Slack payload (mrkdwn, escaped), with changes shown as +12% / −3% (bounce rate in points).
 */
import { describe, expect, it } from "vitest";
import {
  type DigestContent,
  DigestContentSchema,
  formatChange,
  renderEmail,
  renderSlack,
} from "../../core/digest/render.ts";

const content: DigestContent = DigestContentSchema.parse({
  property_id: "UA-DEMO-1",
  property_name: 'Shop <script>alert("x")</script> & Co',
  frequency: "weekly",
  period: "2026-W48",
  from: "2026-11-23",
  to: "2026-11-29",
  previous_from: "2026-11-16",
  previous_to: "2026-11-22",
  current: { visitors: 1234, visits: 1500, pageviews: 4321, bounce_rate: 0.42, visit_duration: 125 },
  previous: { visitors: 1100, visits: 1600, pageviews: 4321, bounce_rate: 0.45, visit_duration: 100 },
  top_pages: [
    { name: "/", visitors: 900 },
    { name: "/pricing?a=1&b=<2>", visitors: 120 },
  ],
  top_sources: [{ name: "Google", visitors: 700 }],
  dashboard_url: "https://tally.example.com/?property=UA-DEMO-1",
  unsubscribe_url: "https://tally.example.com/api/v1/digests/unsubscribe?property_id=UA-DEMO-1&digest_id=d1&token=t",
});

describe("formatChange", () => {
  it.each([
    ["visitors", 1120, 1000, "+12%"],
    ["visitors", 970, 1000, "\u22123%"],
    ["visitors", 1000, 1000, "0%"],
    ["visitors", 5, 0, "new"],
    ["visitors", 0, 0, "0%"],
    ["visit_duration", 90, 120, "\u221225%"],
    ["bounce_rate", 0.42, 0.45, "\u22123 pts"],
    ["bounce_rate", 0.5, 0.46, "+4 pts"],
  ] as const)("shows %s %d after %d as %s", (key, current, previous, shown) => {
    expect(formatChange(key, current, previous)).toBe(shown);
  });
});

describe("renderEmail", () => {
  const email = renderEmail(content);

  it("has a one-line subject naming the property, the kind of report and the dates", () => {
    expect(email.subject).toBe('Shop <script>alert("x")</script> & Co: weekly report, 23 Nov 2026 \u2013 29 Nov 2026');
    expect(renderEmail({ ...content, property_name: "A\r\nBcc: x@evil.test" }).subject).not.toMatch(/[\r\n]/);
  });

  it("reads as plain text with every figure, its change, the top lists and both links", () => {
    expect(email.text).toContain("23 Nov 2026 \u2013 29 Nov 2026, compared with 16 Nov 2026 \u2013 22 Nov 2026");
    expect(email.text).toMatch(/Visitors\s+1,234\s+\+12%/);
    expect(email.text).toMatch(/Visits\s+1,500\s+\u22126%/);
    expect(email.text).toMatch(/Pageviews\s+4,321\s+0%/);
    expect(email.text).toMatch(/Bounce rate\s+42%\s+\u22123 pts/);
    expect(email.text).toMatch(/Visit duration\s+2m 05s\s+\+25%/);
    expect(email.text).toMatch(/900 {2}\/\n/);
    expect(email.text).toMatch(/700 {2}Google/);
    expect(email.text).toContain(`Dashboard: ${content.dashboard_url}`);
    expect(email.text).toContain(`Unsubscribe: ${content.unsubscribe_url}`);
  });

  it("escapes every string from the data in the HTML", () => {
    expect(email.html).not.toContain("<script>");
    expect(email.html).toContain("Shop &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co");
    expect(email.html).toContain("/pricing?a=1&amp;b=&lt;2&gt;");
    expect(email.html).toContain(`href="${content.unsubscribe_url?.replaceAll("&", "&amp;")}"`);
    expect(email.html).toContain("+12%");
    expect(email.html).toContain("\u22123 pts");
  });

  it("leaves out the links it was not given, and says when a list is empty", () => {
    const bare = renderEmail({ ...content, dashboard_url: undefined, unsubscribe_url: undefined, top_sources: [] });
    expect(bare.text).not.toContain("Dashboard:");
    expect(bare.text).not.toContain("Unsubscribe");
    expect(bare.html).not.toContain("<a ");
    expect(bare.text).toMatch(/Top sources \(visitors\)\n {2}\(none\)/);
  });
});

describe("renderSlack", () => {
  const slack = renderSlack(content);
  const json = JSON.stringify(slack);

  it("has a fallback text and blocks with the figures and their changes", () => {
    expect(slack.text).toContain("1,234 visitors (+12%)");
    expect(slack.blocks[0]).toMatchObject({ type: "header", text: { type: "plain_text" } });
    const fields = (slack.blocks[1] as { fields: { text: string }[] }).fields.map((f) => f.text);
    expect(fields).toContain("*Visitors*\n1,234 (+12%)");
    expect(fields).toContain("*Bounce rate*\n42% (\u22123 pts)");
  });

  it("escapes &, < and > in mrkdwn so data cannot become links or mentions", () => {
    expect(json).toContain("/pricing?a=1&amp;b=&lt;2&gt;");
    expect(json).not.toContain("<2>");
    expect(json).toContain("<https://tally.example.com/?property=UA-DEMO-1|Open the dashboard>");
  });

  it("never carries the unsubscribe link (a channel is unsubscribed by removing the digest)", () => {
    expect(json).not.toContain("unsubscribe");
  });
});
