// Generates the API types of the five services from their OpenAPI
// documents (services/<name>/api/openapi.yaml) into src/api/generated/.
// The output is not committed: it is made before every typecheck, test and
// build, so it can never be stale (several branches edit the documents;
// committed output would conflict on every merge). A file is rewritten only
// when it changes, so a running dev server is not reloaded for nothing.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";

const here = dirname(fileURLToPath(import.meta.url));
const services = resolve(here, "../../../services");
const out = resolve(here, "../src/api/generated");
const names = ["identity", "catalog", "inventory", "order", "payment"];

await mkdir(out, { recursive: true });
for (const name of names) {
  const doc = pathToFileURL(resolve(services, name, "api/openapi.yaml"));
  const ast = await openapiTS(doc);
  const text = `// Generated from services/${name}/api/openapi.yaml by scripts/gen-api.mjs. Do not edit.\n\n${astToString(ast)}`;
  const file = resolve(out, `${name}.ts`);
  const old = await readFile(file, "utf8").catch(() => "");
  if (old !== text) await writeFile(file, text);
}
