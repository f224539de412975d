import { timestampFromDate, timestampMs } from "@bufbuild/protobuf/wkt";
import type { APIKey } from "../../gen/roster/v1/user_access_pb.js";
import { access } from "../clients.js";
import { field, h } from "../dom.js";
import { formDialog } from "../form-dialog.js";
import { localDateTime, localInputValue } from "../format.js";
import { rightsFieldset } from "../rights-fieldset.js";

/**
 * Change an API key's name, rights or expiry (UserAccess.UpdateAPIKey with
 * exactly the changed paths). Resolves to the changed paths, or undefined
 * when cancelled or nothing changed.
 */
export async function editApiKey(options: {
  userId: string;
  key: APIKey;
  admin: boolean;
}): Promise<string[] | undefined> {
  const { key } = options;
  const name = h("input", { type: "text", name: "key-name", required: true, maxlength: 100, value: key.name });
  name.dataset.field = "api_key.name";
  const rights = rightsFieldset({
    admin: options.admin,
    dataField: "api_key.rights",
    hint: "The key's rights; they are limited, when used, to what the user may hold.",
  });
  rights.set(key.rights);
  const expires = h("input", {
    type: "datetime-local",
    name: "expires-at",
    value: localInputValue(key.expiresAt),
    "data-field": "api_key.expires_at",
  });
  let changed: string[] = [];
  const ok = await formDialog({
    title: `Change the API key ${key.name}?`,
    message: "The secret stays the same; the key acts with its new name, rights and expiry at once.",
    body: [
      field("Name", name),
      rights.element,
      field("Expires at", expires, "In your time zone; leave empty for a key that never expires."),
    ],
    confirmLabel: "Save API key",
    reasons: { API_KEY_NAME_TAKEN: "api_key.name", RIGHTS_EXCEEDED: "api_key.rights" },
    submit: async () => {
      const at = localDateTime(expires.value);
      const newRights = rights.checked();
      changed = [];
      if (name.value.trim() !== key.name) changed.push("name");
      if ([...newRights].sort().join() !== [...key.rights].sort().join()) changed.push("rights");
      // The form shows minutes: a key expiring at 12:00:30 is unchanged at 12:00.
      const before = key.expiresAt ? Math.floor(timestampMs(key.expiresAt) / 60_000) * 60_000 : undefined;
      if (at?.getTime() !== before) changed.push("expires_at");
      if (changed.length === 0) return;
      await access.updateAPIKey({
        apiKey: {
          userId: options.userId,
          id: key.id,
          name: name.value.trim(),
          rights: newRights,
          expiresAt: at ? timestampFromDate(at) : undefined,
        },
        updateMask: { paths: changed },
      });
    },
  });
  return ok && changed.length > 0 ? changed : undefined;
}
