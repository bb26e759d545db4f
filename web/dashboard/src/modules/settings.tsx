/**
 * Settings: what a team shares. Each section shows only to those whose capabilities allow it
 * (`people`: members, keys, links, public and embedding; `write`: scheduled reports; `manage`: the
 * audit log), so a viewer sees a plain note rather than sections that would only refuse.
 */
import { Empty } from "../components/status.tsx";
import "../styles/team.css";
import { AuditLog } from "./settings/audit.tsx";
import { Digests } from "./settings/digests.tsx";
import { ApiKeys } from "./settings/keys.tsx";
import { Members } from "./settings/members.tsx";
import { useCapabilities } from "./settings/shared.tsx";
import { SharedLinks, SharingSettings } from "./settings/sharing.tsx";

export function Settings() {
  const can = useCapabilities();
  const people = can.has("people");
  const write = can.has("write");
  const manage = can.has("manage");
  if (!people && !write && !manage)
    return <Empty>Your access to this property is read-only: there is nothing to set here.</Empty>;
  return (
    <div className="grid settings" data-testid="settings">
      {people && <Members />}
      {people && <ApiKeys />}
      {people && <SharedLinks />}
      {people && <SharingSettings />}
      {write && <Digests />}
      {manage && <AuditLog />}
    </div>
  );
}
