import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseDuration } from "../../shared/duration.js";

const unitMs = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;

describe("durations", () => {
  it("read the units Roster's options are written in", () => {
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("90s"), 90_000);
    assert.equal(parseDuration("15m"), 900_000);
    assert.equal(parseDuration("24h"), 86_400_000);
    assert.equal(parseDuration("7d"), 604_800_000);
    assert.equal(parseDuration("1h30m"), 5_400_000);
    assert.equal(parseDuration("1.5s"), 1500);
    assert.equal(parseDuration(" 2m "), 120_000);
  });

  it("take a bare number as milliseconds", () => {
    fc.assert(fc.property(fc.nat(), (n) => parseDuration(String(n)) === n));
  });

  it("add up any sequence of amounts with units", () => {
    const part = fc.tuple(
      fc.nat({ max: 10_000 }),
      fc.constantFrom(...(Object.keys(unitMs) as (keyof typeof unitMs)[])),
    );
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 6 }), (parts) => {
        const text = parts.map(([n, unit]) => `${n}${unit}`).join("");
        const total = parts.reduce((sum, [n, unit]) => sum + n * unitMs[unit], 0);
        assert.equal(parseDuration(text), total);
      }),
    );
  });

  it("refuse text that is not a duration, naming it", () => {
    for (const text of ["", "s", "10", "10x", "1h 30m", "-5s", "1hour", "5s!"].filter((t) => !/^\d+$/.test(t))) {
      assert.throws(
        () => parseDuration(text),
        new RegExp(`invalid duration "${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"`),
      );
    }
  });
});
