import { ScimError } from "./scim-error.js";
import { coreUserSchema, listResponseSchema, searchRequestSchema } from "./scim-schemas.js";

/** A list response of every one of `resources`. */
export function listOf(resources: unknown[]) {
  return {
    schemas: [listResponseSchema],
    totalResults: resources.length,
    startIndex: 1,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

/** Which attributes to return (RFC 7644 section 3.4.2.5). */
export interface AttributeSelection {
  attributes?: string[];
  excludedAttributes?: string[];
}

/** What a list or search asks for (RFC 7644 section 3.4.2). */
export interface ListParameters {
  filter?: string;
  startIndex?: number;
  count?: number;
  sortBy?: string;
  sortOrder?: string;
  selection: AttributeSelection;
}

function integer(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new ScimError(400, `${name} must be an integer`, "invalidValue");
  return n;
}

function attributeList(value: unknown): string[] | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const list = Array.isArray(value) ? value.map(String) : String(value).split(",");
  return list.map((s) => s.trim()).filter(Boolean);
}

/** The attribute selection of a query string. */
export function attributeSelection(params: URLSearchParams): AttributeSelection {
  return {
    attributes: attributeList(params.get("attributes") ?? undefined),
    excludedAttributes: attributeList(params.get("excludedAttributes") ?? undefined),
  };
}

/** A GET list's parameters, from its query string. */
export function queryParameters(params: URLSearchParams): ListParameters {
  return {
    filter: params.get("filter") ?? undefined,
    startIndex: integer(params.get("startIndex"), "startIndex"),
    count: integer(params.get("count"), "count"),
    sortBy: params.get("sortBy") ?? undefined,
    sortOrder: params.get("sortOrder") ?? undefined,
    selection: attributeSelection(params),
  };
}

/** A POST .search request's parameters, from its body. */
export function searchParameters(body: unknown): ListParameters {
  const b = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  const schemasOf = b.schemas;
  if (Array.isArray(schemasOf) && !schemasOf.includes(searchRequestSchema)) {
    throw new ScimError(400, `a search request has the schema ${searchRequestSchema}`, "invalidSyntax");
  }
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return {
    filter: str(b.filter),
    startIndex: integer(b.startIndex, "startIndex"),
    count: integer(b.count, "count"),
    sortBy: str(b.sortBy),
    sortOrder: str(b.sortOrder),
    selection: { attributes: attributeList(b.attributes), excludedAttributes: attributeList(b.excludedAttributes) },
  };
}

/** Attributes always returned, whatever the selection. */
const alwaysReturned = new Set(["id", "schemas", "meta"]);

/** Strip the schema URN of a core attribute path; keep extension paths whole. */
function selectionPath(path: string): string[] {
  const lower = path.toLowerCase();
  const core = `${coreUserSchema.toLowerCase()}:`;
  return (lower.startsWith(core) ? lower.slice(core.length) : lower).split(/\.(?![^:]*:)/);
}

/** A resource with only the selected attributes (`attributes`), or without the excluded ones. */
export function shape<T extends object>(resource: T, selection: AttributeSelection): Partial<T> {
  if (!selection.attributes && !selection.excludedAttributes) return resource;
  const out: Record<string, unknown> = {};
  const wanted = selection.attributes?.map(selectionPath);
  const excluded = selection.excludedAttributes?.map(selectionPath) ?? [];
  for (const [key, value] of Object.entries(resource)) {
    const k = key.toLowerCase();
    if (alwaysReturned.has(k)) {
      out[key] = value;
      continue;
    }
    if (wanted) {
      const subs = wanted.filter((p) => p[0] === k);
      if (subs.length === 0) continue;
      if (subs.some((p) => p.length === 1) || !value || typeof value !== "object") {
        out[key] = value;
      } else {
        const pick = (v: Record<string, unknown>) =>
          Object.fromEntries(Object.entries(v).filter(([s]) => subs.some((p) => p[1] === s.toLowerCase())));
        out[key] = Array.isArray(value) ? value.map(pick) : pick(value as Record<string, unknown>);
      }
      continue;
    }
    const drop = excluded.filter((p) => p[0] === k);
    if (drop.some((p) => p.length === 1)) continue;
    if (drop.length > 0 && value && typeof value === "object") {
      const omit = (v: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(v).filter(([s]) => !drop.some((p) => p[1] === s.toLowerCase())));
      out[key] = Array.isArray(value) ? value.map(omit) : omit(value as Record<string, unknown>);
    } else {
      out[key] = value;
    }
  }
  return out as Partial<T>;
}
