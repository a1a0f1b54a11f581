// A fake gateway for component tests: routes "METHOD /path" to handlers and
// records every request, so tests assert what the app sent.

export type Handler = (req: Request, call: number) => Response | Promise<Response>;

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

export function problem(status: number, slug: string, title: string, detail?: string, errors?: { field: string; message: string }[]): Response {
  return new Response(JSON.stringify({ type: `urn:shop:problem:${slug}`, title, status, detail, errors }), {
    status,
    headers: { "Content-Type": "application/problem+json" },
  });
}

export class FakeServer {
  readonly requests: Request[] = [];
  private readonly routes = new Map<string, Handler>();
  private readonly calls = new Map<string, number>();

  on(route: string, handler: Handler): this {
    this.routes.set(route, handler);
    return this;
  }

  /** Requests sent to route ("METHOD /path"). */
  sent(route: string): Request[] {
    return this.requests.filter((r) => `${r.method} ${new URL(r.url).pathname}` === route);
  }

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = input instanceof Request ? input : new Request(input, init);
    this.requests.push(req.clone());
    const path = new URL(req.url).pathname;
    const key = `${req.method} ${path}`;
    for (const [route, handler] of this.routes) {
      const [method, pattern] = route.split(" ");
      const re = new RegExp(`^${pattern.replace(/:[a-zA-Z]+/g, "[^/]+")}$`);
      if (method === req.method && re.test(path)) {
        const n = (this.calls.get(route) ?? 0) + 1;
        this.calls.set(route, n);
        return handler(req, n);
      }
    }
    return problem(404, "not-found", `No fake route for ${key}`);
  };
}
