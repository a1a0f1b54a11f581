import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { queryKeys, unwrap, watchOrder, type OrderProgress } from "@shop/shared";
import { useApi } from "../../api";

export type LiveMode = "connecting" | "live" | "polling" | "ended";

/**
 * useOrderProgress reads the order's progress once, then keeps it current
 * from the server's event stream (falling back to reading it every few
 * seconds when streaming fails).
 */
export function useOrderProgress(id: string) {
  const api = useApi();
  const qc = useQueryClient();
  const [mode, setMode] = useState<LiveMode>("connecting");
  const query = useQuery({
    queryKey: queryKeys.progress(id),
    queryFn: async () => {
      const read = await unwrap(api.order.GET("/api/v1/orders/{id}/progress", { params: { path: { id } } }));
      // An answer never takes the page back: the stream may have brought
      // a newer version while this request was on its way.
      const cur = qc.getQueryData<OrderProgress>(queryKeys.progress(id));
      return cur && cur.version > read.version ? cur : read;
    },
    staleTime: Infinity, // the stream keeps it fresh
  });
  const loaded = query.data !== undefined;
  const final = query.data ? isFinal(query.data) : false;
  useEffect(() => {
    if (!loaded) return; // the stream starts from the first read
    if (final) {
      setMode("ended");
      return;
    }
    return watchOrder(id, {
      baseUrl: api.baseUrl,
      fetch: api.fetch,
      onProgress: (p) => {
        const old = qc.getQueryData<OrderProgress>(queryKeys.progress(id));
        if (!old || p.version >= old.version) qc.setQueryData(queryKeys.progress(id), p);
        if (old && old.order.status !== p.order.status) void qc.invalidateQueries({ queryKey: ["order", "list"] });
      },
      onMode: setMode,
    });
  }, [api, qc, id, loaded, final]);
  return { ...query, mode };
}

export function isFinal(p: OrderProgress): boolean {
  return p.order.status === "CANCELLED" || p.order.status === "DELIVERED";
}
