/** Acquisition: how visitors arrived — channels, sources, referrers and UTM campaigns. */
import { Breakdown } from "../components/breakdown.tsx";
import { Card, TabbedCard } from "../components/card.tsx";

const VISIT_METRICS = ["visitors", "visits", "bounce_rate", "avg_session_duration"] as const;

export function Acquisition() {
  return (
    <div className="grid">
      <Card title="Channels" testId="channels">
        <Breakdown dimension="visit:channel" metrics={[...VISIT_METRICS]} csvName="channels" />
      </Card>
      <TabbedCard
        title="Sources"
        testId="sources"
        tabs={[
          {
            id: "sources",
            label: "Sources",
            render: () => <Breakdown dimension="visit:source" metrics={[...VISIT_METRICS]} csvName="sources" />,
          },
          {
            id: "referrers",
            label: "Referrers",
            render: () => <Breakdown dimension="visit:referrer" metrics={["visitors", "visits"]} csvName="referrers" />,
          },
        ]}
      />
      <TabbedCard
        title="Campaigns (UTM)"
        wide
        testId="campaigns"
        tabs={(["utm_campaign", "utm_source", "utm_medium", "utm_term", "utm_content"] as const).map((k) => ({
          id: k,
          label: k.slice(4).replace(/^./, (c) => c.toUpperCase()),
          render: () => (
            <Breakdown
              dimension={`visit:${k}`}
              metrics={["visitors", "visits", "bounce_rate"]}
              filters={[["matches", `visit:${k}`, ["."]]]}
              csvName={k.replace("_", "-")}
              empty="No visits carried this UTM parameter in this period."
            />
          ),
        }))}
      />
    </div>
  );
}
