import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorMessage, queryKeys, unwrap, type CategoryNode } from "@shop/shared";
import { useApi, usePageTitle } from "@shop/shared/react";
import { Alert, Button, Dialog, ErrorState, Loading, SelectField, TextField, useFieldErrors } from "@shop/shared/ui";
import { flatten } from "./categories";

/** The category tree (ADMIN): add, rename, move and delete categories. */
export function CategoriesPage() {
  usePageTitle("Categories", "Shop admin");
  const api = useApi();
  const tree = useQuery({ queryKey: queryKeys.categories(), queryFn: () => unwrap(api.catalog.GET("/api/v1/categories")) });
  const [editing, setEditing] = useState<CategoryNode | "new" | null>(null);
  if (tree.isPending) return <Loading label="Loading the categories…" />;
  if (tree.isError) return <ErrorState error={tree.error} onRetry={() => void tree.refetch()} />;
  const render = (nodes: readonly CategoryNode[]) => (
    <ul className="tree">
      {nodes.map((n) => (
        <li key={n.id}>
          <span className="tree__name">{n.name}</span> <code className="muted small">{n.path}</code>{" "}
          <Button variant="link" onClick={() => setEditing(n)} aria-label={`Edit ${n.name}`}>Edit</Button>
          {n.children && n.children.length > 0 && render(n.children)}
        </li>
      ))}
    </ul>
  );
  return (
    <>
      <div className="page-head">
        <h1>Categories</h1>
        <Button onClick={() => setEditing("new")}>New category</Button>
      </div>
      <section className="card">{render(tree.data.items)}</section>
      {editing && <CategoryDialog category={editing === "new" ? undefined : editing} all={tree.data.items} onClose={() => setEditing(null)} />}
    </>
  );
}

function CategoryDialog({ category, all, onClose }: { category?: CategoryNode; all: readonly CategoryNode[]; onClose: () => void }) {
  const api = useApi();
  const qc = useQueryClient();
  const done = () => {
    void qc.invalidateQueries({ queryKey: queryKeys.categories() });
    onClose();
  };
  const save = useMutation({
    mutationFn: (f: FormData) => {
      const body = { name: String(f.get("name")).trim(), slug: String(f.get("slug")).trim(), parent_id: String(f.get("parent_id") ?? "") || null };
      return category
        ? unwrap(api.catalog.PUT("/api/v1/categories/{id}", { params: { path: { id: category.id } }, body }))
        : unwrap(api.catalog.POST("/api/v1/categories", { body }));
    },
    onSuccess: done,
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.catalog.DELETE("/api/v1/categories/{id}", { params: { path: { id: category!.id } } })),
    onSuccess: done,
  });
  const { byField, rest } = useFieldErrors(save.error, ["name", "slug", "parent_id"]);
  const formId = "category-form";
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    save.mutate(new FormData(e.currentTarget));
  };
  return (
    <Dialog open title={category ? `Edit ${category.name}` : "New category"} onClose={onClose}
      actions={<>
        {category && <Button variant="danger" busy={remove.isPending} onClick={() => remove.mutate()}>Delete</Button>}
        <Button type="submit" form={formId} busy={save.isPending}>Save</Button>
      </>}>
      <form id={formId} onSubmit={submit} noValidate>
        <TextField label="Name" name="name" defaultValue={category?.name} error={byField.name} />
        <TextField label="Slug" name="slug" defaultValue={category?.slug} error={byField.slug} hint="Lower case words joined by hyphens" />
        <SelectField label="Parent" name="parent_id" defaultValue={category?.parent_id ?? ""} error={byField.parent_id}>
          <option value="">None (a root)</option>
          {flatten(all).filter((c) => c.id !== category?.id).map((c) => <option key={c.id} value={c.id}>{c.label}</option>)}
        </SelectField>
      </form>
      {rest !== undefined && rest !== null && <Alert tone="error" title="Could not save">{errorMessage(rest)}</Alert>}
      {remove.error && <Alert tone="error" title="Could not delete">{errorMessage(remove.error)}</Alert>}
    </Dialog>
  );
}
