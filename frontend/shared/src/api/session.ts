// The signed-in session: the token pair, kept in storage so that a reload
// stays signed in, and told to whoever listens (the apps' auth state).

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

/** Why a session ended: the user logged out, or its refresh was refused. */
export type EndReason = "logout" | "expired";

type Listener = (tokens: Tokens | null, reason?: EndReason) => void;

export class Session {
  private current: Tokens | null;
  private readonly listeners = new Set<Listener>();

  constructor(
    private readonly storage: Pick<Storage, "getItem" | "setItem" | "removeItem"> | null,
    private readonly key = "shop.session",
  ) {
    this.current = null;
    try {
      const raw = storage?.getItem(key);
      if (raw) {
        const t = JSON.parse(raw) as Partial<Tokens>;
        if (typeof t.accessToken === "string" && typeof t.refreshToken === "string") {
          this.current = { accessToken: t.accessToken, refreshToken: t.refreshToken };
        }
      }
    } catch {
      // A damaged entry is no session.
    }
  }

  get tokens(): Tokens | null {
    return this.current;
  }

  set(tokens: Tokens): void {
    this.current = tokens;
    this.storage?.setItem(this.key, JSON.stringify(tokens));
    this.emit(tokens);
  }

  end(reason: EndReason): void {
    const had = this.current !== null;
    this.current = null;
    this.storage?.removeItem(this.key);
    if (had) this.emit(null, reason);
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(tokens: Tokens | null, reason?: EndReason) {
    for (const fn of this.listeners) fn(tokens, reason);
  }
}
