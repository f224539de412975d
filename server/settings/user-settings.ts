import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { UserSettings } from "../../gen/roster/v1/user_settings_pb.js";
import {
  errSettingNotFound,
  errSettingsBusy,
  errSettingsEtagMismatch,
  errUserNotFound,
  type FieldViolation,
  invalidArgument,
} from "../../shared/errors.js";
import { requireCaller } from "../access/caller.js";
import { databaseTimeout } from "../call-scope/deadline.js";
import type { SettingsChange, SettingsOwner } from "../store/settings-store.js";
import type { Store } from "../store/store.js";
import { requireUserId } from "../validation/user-validation.js";
import {
  objectFromStored,
  settingKeyProblem,
  settingsProblems,
  storedValue,
  storedValueOf,
  valueMessageFromStored,
} from "./setting-values.js";

export interface UserSettingsDeps {
  store: Store;
  defaultDeadlineMs: number;
}

/**
 * The UserSettings service. Who may read or change whose settings is
 * decided by the rights table (self or admin); handlers resolve the user
 * and keep the values valid.
 */
export function userSettings(deps: UserSettingsDeps): ServiceImpl<typeof UserSettings> {
  const { store } = deps;
  const timeout = databaseTimeout(deps.defaultDeadlineMs);

  /** The user a request is about (the caller when `user_id` is empty), which must exist. */
  async function owner(requested: string, ctx: HandlerContext): Promise<SettingsOwner> {
    const userId = requested || requireCaller(ctx).userId;
    requireUserId(userId);
    const doc = await store.users.getDocument(userId);
    if (!doc) throw errUserNotFound({ user_id: userId });
    return { userId, ref: doc.ref };
  }

  function requireKey(key: string) {
    const problem = settingKeyProblem(key);
    if (problem) throw invalidArgument([{ field: "key", description: problem }]);
  }

  /** Apply a change, checking the limits against the complete result. */
  function write(
    user: SettingsOwner,
    change: SettingsChange,
    ctx: HandlerContext,
    options: { fields: { count: string; size: string }; etag?: string },
  ) {
    return store.settings.update(
      user,
      (current) => {
        const next = change(current);
        if (!next) return undefined;
        const problems = settingsProblems(next, options.fields);
        if (problems.length > 0) throw invalidArgument(problems);
        return next;
      },
      {
        busy: () => errSettingsBusy({ user_id: user.userId }),
        conflict: () => errSettingsEtagMismatch({ user_id: user.userId }),
      },
      { etag: options.etag, maxTimeMS: timeout(ctx) },
    );
  }

  return {
    async list(req, ctx) {
      const user = await owner(req.userId, ctx);
      const doc = await store.settings.get(user.ref, timeout(ctx));
      return { settings: objectFromStored(doc?.values ?? {}), etag: doc?.etag ?? "" };
    },

    async get(req, ctx) {
      requireKey(req.key);
      const user = await owner(req.userId, ctx);
      const doc = await store.settings.get(user.ref, timeout(ctx));
      const text = doc && Object.hasOwn(doc.values, req.key) ? doc.values[req.key] : undefined;
      if (text === undefined) throw errSettingNotFound({ user_id: user.userId, key: req.key });
      return { key: req.key, value: valueMessageFromStored(text) };
    },

    async set(req, ctx) {
      requireKey(req.key);
      const problems: FieldViolation[] = [];
      const text = storedValueOf(req.value, "value", problems);
      if (text === undefined) throw invalidArgument(problems);
      const user = await owner(req.userId, ctx);
      const doc = await write(
        user,
        (current) => (current[req.key] === text ? undefined : { ...current, [req.key]: text }),
        ctx,
        { fields: { count: "key", size: "value" } },
      );
      return { key: req.key, value: valueMessageFromStored(text), etag: doc.etag };
    },

    async replace(req, ctx) {
      const problems: FieldViolation[] = [];
      const values: Record<string, string> = {};
      for (const [key, value] of Object.entries(req.settings ?? {})) {
        const keyProblem = settingKeyProblem(key);
        if (keyProblem) {
          problems.push({ field: `settings.${key}`, description: `key ${keyProblem}` });
          continue;
        }
        const text = storedValue(value, `settings.${key}`, problems);
        if (text !== undefined) values[key] = text;
      }
      problems.push(...settingsProblems(values, { count: "settings", size: "settings" }));
      if (problems.length > 0) throw invalidArgument(problems);
      const user = await owner(req.userId, ctx);
      const same = (current: Readonly<Record<string, string>>) =>
        Object.keys(current).length === Object.keys(values).length &&
        Object.entries(values).every(([k, v]) => current[k] === v);
      const doc = await write(user, (current) => (same(current) ? undefined : values), ctx, {
        fields: { count: "settings", size: "settings" },
        etag: req.etag || undefined,
      });
      return { settings: objectFromStored(doc.values), etag: doc.etag };
    },

    async delete(req, ctx) {
      requireKey(req.key);
      const user = await owner(req.userId, ctx);
      // A user who never had settings gets no document for a miss.
      const stored = await store.settings.get(user.ref, timeout(ctx));
      let missing = !stored || !Object.hasOwn(stored.values, req.key);
      if (!missing) {
        await write(
          user,
          (current) => {
            missing = !Object.hasOwn(current, req.key);
            if (missing) return undefined;
            const { [req.key]: _, ...rest } = current;
            return rest;
          },
          ctx,
          { fields: { count: "key", size: "key" } },
        );
      }
      if (missing && !req.allowMissing) throw errSettingNotFound({ user_id: user.userId, key: req.key });
      return {};
    },
  };
}
