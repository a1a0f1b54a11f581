import { describe, expect, it } from "vitest";
import { createShopApi } from "./client";
import { unwrap, ProblemError } from "./problem";
import { FakeServer, json, problem } from "../test/fakeServer";

const me = { id: "u1", email: "a@b.c", display_name: "A", role: "CUSTOMER", disabled: false, created_at: "2026-01-01T00:00:00Z" };

function signedIn(server: FakeServer) {
  const api = createShopApi({ baseUrl: "http://shop.test", storage: null, fetch: server.fetch });
  api.session.set({ accessToken: "old", refreshToken: "r1" });
  return api;
}

describe("the shared client's token handling", () => {
  it("attaches the access token", async () => {
    const server = new FakeServer().on("GET /api/v1/users/me", () => json(me));
    const api = signedIn(server);
    await unwrap(api.identity.GET("/api/v1/users/me"));
    expect(server.sent("GET /api/v1/users/me")[0].headers.get("Authorization")).toBe("Bearer old");
  });

  it("refreshes once on a 401 and sends the request again with the new token", async () => {
    const server = new FakeServer()
      .on("GET /api/v1/users/me", (req) =>
        req.headers.get("Authorization") === "Bearer new" ? json(me) : problem(401, "unauthorized", "Unauthorized"),
      )
      .on("POST /api/v1/auth/refresh", () =>
        json({ token_type: "Bearer", access_token: "new", refresh_token: "r2", expires_in: 900, refresh_expires_in: 3600 }),
      );
    const api = signedIn(server);
    // Two requests fail together: one refresh serves both.
    const [a, b] = await Promise.all([unwrap(api.identity.GET("/api/v1/users/me")), unwrap(api.identity.GET("/api/v1/users/me"))]);
    expect(a.id).toBe("u1");
    expect(b.id).toBe("u1");
    expect(server.sent("POST /api/v1/auth/refresh")).toHaveLength(1);
    expect(await server.sent("POST /api/v1/auth/refresh")[0].json()).toEqual({ refresh_token: "r1" });
    expect(api.session.tokens).toEqual({ accessToken: "new", refreshToken: "r2" });
  });

  it("ends the session cleanly when the refresh is refused", async () => {
    const server = new FakeServer()
      .on("GET /api/v1/users/me", () => problem(401, "unauthorized", "Unauthorized"))
      .on("POST /api/v1/auth/refresh", () => problem(401, "invalid-refresh-token", "Invalid refresh token"));
    const api = signedIn(server);
    const ended: string[] = [];
    api.session.subscribe((t, reason) => !t && ended.push(reason ?? ""));
    const err = await unwrap(api.identity.GET("/api/v1/users/me")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProblemError);
    expect((err as ProblemError).status).toBe(401);
    expect(api.session.tokens).toBeNull();
    expect(ended).toEqual(["expired"]);
    // Not refreshed again, not retried in a loop.
    expect(server.sent("POST /api/v1/auth/refresh")).toHaveLength(1);
    expect(server.sent("GET /api/v1/users/me")).toHaveLength(1);
  });

  it("keeps a request's body for its retry", async () => {
    const server = new FakeServer()
      .on("POST /api/v1/orders", (req, n) => (n === 1 ? problem(401, "unauthorized", "Unauthorized") : json({ seen: req.headers.get("Authorization") }, 201)))
      .on("POST /api/v1/auth/refresh", () =>
        json({ token_type: "Bearer", access_token: "new", refresh_token: "r2", expires_in: 900, refresh_expires_in: 3600 }),
      );
    const api = signedIn(server);
    await api.order.POST("/api/v1/orders", {
      params: { header: { "Idempotency-Key": "k1" } },
      body: { lines: [{ product_id: "p1", quantity: 2 }] },
    });
    const sent = server.sent("POST /api/v1/orders");
    expect(sent).toHaveLength(2);
    expect(await sent[1].json()).toEqual({ lines: [{ product_id: "p1", quantity: 2 }] });
    expect(sent[1].headers.get("Idempotency-Key")).toBe("k1");
    expect(sent[1].headers.get("Authorization")).toBe("Bearer new");
  });
});

describe("problems", () => {
  it("maps a validation problem's errors to their fields", async () => {
    const server = new FakeServer().on("POST /api/v1/auth/register", () =>
      problem(400, "validation", "Invalid input", "2 fields are invalid", [
        { field: "email", message: "must be a valid email address" },
        { field: "password", message: "must be at least 10 characters" },
      ]),
    );
    const api = createShopApi({ baseUrl: "http://shop.test", storage: null, fetch: server.fetch });
    const err = (await api.register("x", "short", "X").catch((e: unknown) => e)) as ProblemError;
    expect(err.slug).toBe("validation");
    expect(err.fields).toEqual({ email: "must be a valid email address", password: "must be at least 10 characters" });
  });

  it("turns a network failure into status 0", async () => {
    const api = createShopApi({ baseUrl: "http://shop.test", storage: null, fetch: () => Promise.reject(new TypeError("offline")) });
    const err = (await unwrap(api.catalog.GET("/api/v1/categories")).catch((e: unknown) => e)) as ProblemError;
    expect(err.status).toBe(0);
  });
});
