/** The HTTP face of the Worker: every route group mounted on one Hono app with one error shell. */
import { Hono } from "hono";
import { collectRoutes } from "./collect/route.ts";
import { renderError, renderNotFound } from "./errors.ts";

export const app = new Hono<{ Bindings: Env }>();

/** Liveness, and the "trivial route" the ingest bench compares /collect against. */
app.get("/health", (c) => c.json({ status: "ok" }));
app.route("/", collectRoutes);
app.notFound(renderNotFound);
app.onError(renderError);
