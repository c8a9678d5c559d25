import { describe, expect, it } from "vitest";
import { containerNameOf } from "../../../../src/providers/azure/containerUrl.js";

describe("a blob container's name from its URL", () => {
  it("reads it in the account style, the emulator's path style, and with a trailing slash", () => {
    expect(containerNameOf("https://stdrills.blob.core.windows.net/drills")).toBe("drills");
    expect(containerNameOf("http://127.0.0.1:10000/devstoreaccount1/drills")).toBe("drills");
    expect(containerNameOf("https://stdrills.blob.core.windows.net/drills/")).toBe("drills");
  });
});
