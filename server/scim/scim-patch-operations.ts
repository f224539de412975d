import { scimPatch } from "scim-patch";
import { ScimError } from "./scim-error.js";
import { enterpriseUserSchema, patchOpSchema } from "./scim-schemas.js";
import { booleanOf } from "./scim-users.js";

/** One PATCH operation. */
export interface PatchOperation {
  op: string;
  path?: string;
  value?: unknown;
}

/**
 * The operations of a PATCH request, in the shape scim-patch takes: `op` in
 * lower case (Entra sends "Replace"), `active` values as booleans (Entra
 * sends "False"), and an operation without a path that carries an object
 * split into one operation per attribute (Okta and Entra send those).
 */
export function patchOperations(body: unknown): PatchOperation[] {
  const b = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  if (!Array.isArray(b.schemas) || !b.schemas.includes(patchOpSchema)) {
    throw new ScimError(400, `a PATCH request has the schema ${patchOpSchema}`, "invalidSyntax");
  }
  const ops = b.Operations ?? b.operations;
  if (!Array.isArray(ops) || ops.length === 0)
    throw new ScimError(400, "Operations must be a non-empty list", "invalidSyntax");
  const out: PatchOperation[] = [];
  for (const [i, raw] of ops.entries()) {
    const o = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
    const op = typeof o.op === "string" ? o.op.toLowerCase() : "";
    if (op !== "add" && op !== "replace" && op !== "remove") {
      throw new ScimError(400, `Operations[${i}].op must be add, replace or remove`, "invalidSyntax");
    }
    const path = typeof o.path === "string" && o.path ? o.path : undefined;
    if (!path && op === "remove") throw new ScimError(400, `Operations[${i}] removes without a path`, "noTarget");
    if (!path && o.value && typeof o.value === "object" && !Array.isArray(o.value)) {
      for (const [key, value] of Object.entries(o.value)) out.push({ op, path: key, value: normalised(key, value) });
    } else if (path) {
      out.push({ op, path, ...(op === "remove" && o.value === undefined ? {} : { value: normalised(path, o.value) }) });
    } else {
      throw new ScimError(400, `Operations[${i}] has neither a path nor an object value`, "invalidValue");
    }
  }
  return out;
}

function normalised(path: string, value: unknown): unknown {
  if (path.toLowerCase() === "active" && typeof value === "string") return booleanOf(value, "active");
  return value;
}

/** `resource` with `operations` applied; a malformed or inapplicable operation is a SCIM 400. */
export function patchedResource(resource: object, operations: readonly PatchOperation[]): Record<string, unknown> {
  let patched: Record<string, unknown> = resource as unknown as Record<string, unknown>;
  try {
    for (const operation of operations) {
      // scim-patch does not take a whole extension by its schema URN as a path.
      if (operation.path?.toLowerCase() === enterpriseUserSchema.toLowerCase()) {
        const { [enterpriseUserSchema]: old, ...rest } = patched;
        const value = operation.value && typeof operation.value === "object" ? operation.value : {};
        if (operation.op === "remove") patched = rest;
        else if (operation.op === "add")
          patched = { ...rest, [enterpriseUserSchema]: { ...(old as object), ...value } };
        else patched = { ...rest, [enterpriseUserSchema]: value };
        continue;
      }
      patched = scimPatch(patched as never, [operation] as never, {
        mutateDocument: false,
        treatMissingAsAdd: true,
      });
    }
  } catch (err) {
    const e = err as { message?: string; scimType?: string; scimCode?: string; constructor?: { name?: string } };
    const type =
      e.constructor?.name === "NoTarget" ? "noTarget" : e.scimType === "invalidPath" ? "invalidPath" : "invalidValue";
    throw new ScimError(400, e.message ?? "invalid patch", type);
  }
  return patched;
}
