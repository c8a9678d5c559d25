import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { escapeTableKey } from "../../../../src/providers/notifications/tableStorage.js";

/** What Table Storage refuses in PartitionKey and RowKey, plus `%`, which some clients double-decode. */
// eslint-disable-next-line no-control-regex -- control characters are what the service forbids
const refused = /[/\\#?%\u0000-\u001f\u007f-\u009f]/;

/** Undoes {@link escapeTableKey} for keys it did not hash. */
function unescape(key: string): string {
  return key.replace(/~([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

describe("escapeTableKey", () => {
  it("leaves an event id and channel id as they are", () => {
    // Act
    const key = escapeTableKey("8d5c8f0e-3f1a-8b2c-9d4e-5f6a7b8c9d0e:ops-teams");

    // Assert
    expect(key).toBe("8d5c8f0e-3f1a-8b2c-9d4e-5f6a7b8c9d0e:ops-teams");
  });

  it("escapes every character the service forbids, and its own escape character", () => {
    // Act
    const key = escapeTableKey("a/b\\c#d?e%f~g\u0000h\u001fi\u007fj\u009fk");

    // Assert
    expect(key).toBe("a~2Fb~5Cc~23d~3Fe~25f~7Eg~00h~1Fi~7Fj~9Fk");
  });

  it("never yields a refused character, and is undone exactly for any key it does not hash", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (value) => {
        const key = escapeTableKey(value);
        expect(refused.test(key)).toBe(false);
        if (!key.startsWith("~h")) expect(unescape(key)).toBe(value);
      }),
    );
  });

  it("hashes a key too long for the service into a short one that no escaped key can equal", () => {
    // Arrange
    const long = "x".repeat(2_000);

    // Act
    const [a, b] = [escapeTableKey(long), escapeTableKey(`${long}y`)];

    // Assert
    expect(a).toMatch(/^~h[0-9a-f]{64}$/);
    expect(b).toMatch(/^~h[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
    expect(escapeTableKey(a)).not.toBe(a);
  });

  it("hashes a key with a lone surrogate, which JSON cannot carry to the service", () => {
    // Act
    const key = escapeTableKey("event:\ud800");

    // Assert
    expect(key).toMatch(/^~h[0-9a-f]{64}$/);
  });
});
