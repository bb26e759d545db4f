/**
 * The team's routes for the route table (fuzz-routes.ts), issue #21: accounts, invitations,
 * members, shared links, saved items, annotations and the audit log. Ids in paths that name
 * nothing (an invitation, a share, a saved item) still pass the access check before their 404.
 */
import type { Route } from "./fuzz-routes.ts";

const NO_ID = "0123456789abcdef";
const prop = (p: { property_id: string }, rest = "") => `/api/v1/properties/${p.property_id}${rest}`;

export const TEAM_ROUTES: Route[] = [
  {
    name: "POST /api/v1/auth/sign-in",
    method: "POST",
    access: "public",
    valid: () => ({ path: "/api/v1/auth/sign-in", body: { email: "fuzz@example.com", password: "not the password" } }),
  },
  {
    name: "POST /api/v1/auth/sign-out",
    method: "POST",
    access: "public",
    valid: () => ({ path: "/api/v1/auth/sign-out" }),
  },
  {
    name: "POST /api/v1/auth/sign-out-everywhere",
    method: "POST",
    access: "public",
    valid: () => ({ path: "/api/v1/auth/sign-out-everywhere" }),
  },
  { name: "GET /api/v1/auth/me", method: "GET", access: "public", valid: () => ({ path: "/api/v1/auth/me" }) },
  {
    name: "GET /api/v1/invitations/:id/:token",
    method: "GET",
    access: "public",
    valid: (p) => ({ path: `/api/v1/invitations/${p.property_id}/inv_${NO_ID}_${"a".repeat(43)}` }),
  },
  {
    name: "POST /api/v1/invitations/accept",
    method: "POST",
    access: "public",
    valid: (p) => ({
      path: "/api/v1/invitations/accept",
      body: {
        property_id: p.property_id,
        token: `inv_${NO_ID}_${"a".repeat(43)}`,
        email: "fuzz@example.com",
        password: "0123456789",
      },
    }),
  },
  {
    name: "POST /api/v1/shares/unlock",
    method: "POST",
    access: "public",
    valid: (p) => ({
      path: "/api/v1/shares/unlock",
      body: { property_id: p.property_id, token: `shr_${NO_ID}_${"a".repeat(43)}`, password: "x" },
    }),
  },
  { name: "GET /share/:id", method: "GET", access: "public", valid: (p) => ({ path: `/share/${p.property_id}` }) },
  { name: "GET /share/:id/*", method: "GET", access: "public", valid: (p) => ({ path: `/share/${p.property_id}/x` }) },
  {
    name: "GET /api/v1/share/:id",
    method: "GET",
    access: "key",
    valid: (p) => ({ path: `/api/v1/share/${p.property_id}` }),
  },
  {
    name: "GET /api/v1/properties/:id/access",
    method: "GET",
    access: "key",
    valid: (p) => ({ path: prop(p, "/access") }),
  },
  {
    name: "GET /api/v1/properties/:id/members",
    method: "GET",
    access: "key",
    needs: "people",
    valid: (p) => ({ path: prop(p, "/members") }),
  },
  {
    name: "POST /api/v1/properties/:id/invitations",
    method: "POST",
    access: "key",
    needs: "people",
    mutatesProperty: true,
    valid: (p) => ({ path: prop(p, "/invitations"), body: { email: "invitee@example.com", role: "viewer" } }),
  },
  {
    name: "DELETE /api/v1/properties/:id/invitations/:invitationId",
    method: "DELETE",
    access: "key",
    needs: "people",
    valid: (p) => ({ path: prop(p, `/invitations/${NO_ID}`) }),
  },
  {
    name: "PATCH /api/v1/properties/:id/members/:email",
    method: "PATCH",
    access: "key",
    needs: "people",
    valid: (p) => ({ path: prop(p, "/members/nobody@example.com"), body: { role: "editor" } }),
  },
  {
    name: "DELETE /api/v1/properties/:id/members/:email",
    method: "DELETE",
    access: "key",
    needs: "people",
    valid: (p) => ({ path: prop(p, "/members/nobody@example.com") }),
  },
  {
    name: "GET /api/v1/properties/:id/audit",
    method: "GET",
    access: "key",
    needs: "manage",
    valid: (p) => ({ path: prop(p, "/audit"), query: { limit: "10" } }),
  },
  {
    name: "GET /api/v1/properties/:id/shares",
    method: "GET",
    access: "key",
    needs: "people",
    valid: (p) => ({ path: prop(p, "/shares") }),
  },
  {
    name: "POST /api/v1/properties/:id/shares",
    method: "POST",
    access: "key",
    needs: "people",
    mutatesProperty: true,
    valid: (p) => ({ path: prop(p, "/shares"), body: { label: "fuzz" } }),
  },
  {
    name: "DELETE /api/v1/properties/:id/shares/:shareId",
    method: "DELETE",
    access: "key",
    needs: "people",
    valid: (p) => ({ path: prop(p, `/shares/${NO_ID}`) }),
  },
  {
    name: "GET /api/v1/properties/:id/saved",
    method: "GET",
    access: "key",
    valid: (p) => ({ path: prop(p, "/saved"), query: { kind: "report" } }),
  },
  {
    name: "POST /api/v1/properties/:id/saved",
    method: "POST",
    access: "key",
    valid: (p) => ({
      path: prop(p, "/saved"),
      body: { kind: "segment", name: "Mobile", definition: { filters: [["is", "visit:device", ["mobile"]]] } },
    }),
  },
  {
    name: "PUT /api/v1/properties/:id/saved/:itemId",
    method: "PUT",
    access: "key",
    valid: (p) => ({
      path: prop(p, `/saved/${NO_ID}`),
      body: { kind: "report", name: "R", definition: { metrics: ["visitors"] } },
    }),
  },
  {
    name: "DELETE /api/v1/properties/:id/saved/:itemId",
    method: "DELETE",
    access: "key",
    valid: (p) => ({ path: prop(p, `/saved/${NO_ID}`) }),
  },
  {
    name: "GET /api/v1/properties/:id/annotations",
    method: "GET",
    access: "key",
    valid: (p) => ({ path: prop(p, "/annotations"), query: { from: "2026-01-01" } }),
  },
  {
    name: "POST /api/v1/properties/:id/annotations",
    method: "POST",
    access: "key",
    valid: (p) => ({ path: prop(p, "/annotations"), body: { date: "2026-11-30", text: "Deploy" } }),
  },
  {
    name: "DELETE /api/v1/properties/:id/annotations/:annotationId",
    method: "DELETE",
    access: "key",
    valid: (p) => ({ path: prop(p, `/annotations/${NO_ID}`) }),
  },
  {
    name: "GET /api/v1/properties/:id/digests",
    method: "GET",
    access: "key",
    needs: "write",
    valid: (p) => ({ path: prop(p, "/digests") }),
  },
  {
    name: "POST /api/v1/properties/:id/digests",
    method: "POST",
    access: "key",
    mutatesProperty: true,
    valid: (p) => ({
      path: prop(p, "/digests"),
      body: { channel: "slack", target: "https://hooks.example.com/services/T/B/x", frequency: "weekly" },
    }),
  },
  {
    name: "DELETE /api/v1/properties/:id/digests/:digestId",
    method: "DELETE",
    access: "key",
    valid: (p) => ({ path: prop(p, `/digests/${NO_ID}`) }),
  },
  {
    name: "POST /api/v1/properties/:id/digests/:digestId/send",
    method: "POST",
    access: "key",
    valid: (p) => ({ path: prop(p, `/digests/${NO_ID}/send`) }),
  },
  {
    name: "GET /api/v1/digests/unsubscribe",
    method: "GET",
    access: "public",
    valid: (p) => ({
      path: "/api/v1/digests/unsubscribe",
      query: { property_id: p.property_id, digest_id: NO_ID, token: "x" },
    }),
  },
  {
    name: "POST /api/v1/digests/unsubscribe",
    method: "POST",
    access: "public",
    valid: (p) => ({
      path: "/api/v1/digests/unsubscribe",
      query: { property_id: p.property_id, digest_id: NO_ID, token: "x" },
    }),
  },
];
