import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as errors from "../../shared/errors.js";

/** `USER_NOT_FOUND` → `errUserNotFound`. */
function constantName(reason: string): string {
  return `err${reason
    .toLowerCase()
    .split("_")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("")}`;
}

describe("defined errors", () => {
  const defined = Object.entries(errors).filter(
    (entry): entry is [string, errors.DefinedError<string>] => typeof entry[1] === "function" && "reason" in entry[1],
  );

  it("are named after the reason they send", () => {
    assert.ok(defined.length > 30);
    assert.deepEqual(
      defined.filter(([name, e]) => name !== constantName(e.reason)).map(([name, e]) => `${name} sends ${e.reason}`),
      [],
    );
  });

  it("send each reason once", () => {
    const reasons = defined.map(([, e]) => e.reason);
    assert.equal(new Set(reasons).size, reasons.length);
  });

  it("fill their message from the attributes and carry them as metadata", () => {
    const err = errors.errUserNotFound({ user_id: "ada" });
    assert.equal(err.rawMessage, "user ada not found");
    assert.ok(errors.errUserNotFound.is(err));
    assert.ok(!errors.errEmailTaken.is(err));
  });
});
