/**
 * Audience: who visitors are (new or returning), where they are (a world map and the country, region
 * and city tables) and what they use.
 */
import { Breakdown } from "../components/breakdown.tsx";
import { Card, TabbedCard } from "../components/card.tsx";
import { Async } from "../components/status.tsx";
import { WorldMap } from "../components/world-map.tsx";
import { useDash, useQuery } from "../context.ts";
import { withFilter } from "../url-state.ts";
import { VisitorTypes } from "./audience/visitor-types.tsx";

function CountryMap() {
  const dash = useDash();
  const loaded = useQuery({
    metrics: ["visitors"],
    dimensions: ["visit:country"],
    limit: 300,
    comparable: false,
  });
  return (
    <Async
      loaded={loaded}
      isEmpty={(d) => d.results.every((r) => r.dimensions[0] === "")}
      empty="No visitor has a known country in this period."
    >
      {(data) => (
        <WorldMap
          counts={data.results
            .filter((r) => r.dimensions[0])
            .map((r) => ({ country: r.dimensions[0] ?? "", visitors: r.metrics[0] ?? 0 }))}
          onPick={(country) =>
            dash.navigate({ filters: JSON.stringify(withFilter(dash.state.filters, "visit:country", country)) })
          }
        />
      )}
    </Async>
  );
}

export function Audience() {
  return (
    <div className="grid">
      <Card title="Visitors by country" testId="world-map">
        <CountryMap />
      </Card>
      <TabbedCard
        title="Locations"
        testId="locations"
        tabs={[
          {
            id: "countries",
            label: "Countries",
            render: () => <Breakdown dimension="visit:country" metrics={["visitors", "visits"]} csvName="countries" />,
          },
          {
            id: "regions",
            label: "Regions",
            render: () => <Breakdown dimension="visit:region" metrics={["visitors", "visits"]} csvName="regions" />,
          },
          {
            id: "cities",
            label: "Cities",
            render: () => <Breakdown dimension="visit:city" metrics={["visitors", "visits"]} csvName="cities" />,
          },
        ]}
      />
      <Card title="New vs returning" testId="visitor-types">
        <VisitorTypes />
      </Card>
      <TabbedCard
        title="Devices"
        testId="devices"
        tabs={[
          {
            id: "device",
            label: "Device type",
            render: () => (
              <Breakdown dimension="visit:device" metrics={["visitors", "visits", "bounce_rate"]} csvName="devices" />
            ),
          },
          {
            id: "screen",
            label: "Screen size",
            render: () => <Breakdown dimension="visit:screen" metrics={["visitors", "visits"]} csvName="screens" />,
          },
        ]}
      />
      <TabbedCard
        title="Software"
        testId="software"
        tabs={[
          {
            id: "browsers",
            label: "Browsers",
            render: () => <Breakdown dimension="visit:browser" metrics={["visitors", "visits"]} csvName="browsers" />,
          },
          {
            id: "os",
            label: "Operating systems",
            render: () => <Breakdown dimension="visit:os" metrics={["visitors", "visits"]} csvName="os" />,
          },
          {
            id: "browser_versions",
            label: "Browser versions",
            render: () => (
              <Breakdown dimension="visit:browser_version" metrics={["visitors"]} csvName="browser-versions" />
            ),
          },
        ]}
      />
      <Card title="Languages" testId="languages">
        <Breakdown dimension="visit:language" metrics={["visitors", "visits"]} csvName="languages" />
      </Card>
    </div>
  );
}
