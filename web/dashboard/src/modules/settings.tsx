/**
 * Settings: what a team shares (members, keys, links, digests, the audit log), each section shown
 * only to those whose capabilities allow it. Placeholder until the sections land.
 */
export function Settings() {
  return (
    <section aria-labelledby="settings-title" data-testid="settings">
      <h2 id="settings-title">Settings</h2>
    </section>
  );
}
