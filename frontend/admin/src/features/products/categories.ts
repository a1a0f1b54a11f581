import type { CategoryNode } from "@shop/shared";

export interface FlatCategory {
  id: string;
  label: string;
  depth: number;
  node: CategoryNode;
}

/** flatten lists a category tree depth first, each with its path as a label. */
export function flatten(nodes: readonly CategoryNode[], depth = 0, prefix = ""): FlatCategory[] {
  return nodes.flatMap((n) => {
    const label = prefix ? `${prefix} › ${n.name}` : n.name;
    return [{ id: n.id, label, depth, node: n }, ...flatten(n.children ?? [], depth + 1, label)];
  });
}
