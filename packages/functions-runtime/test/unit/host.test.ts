import { describe, expect, test } from "vitest";
import { terminateGraceMs } from "../../src/host.js";

describe("how long a stopping host gives the app's appTerminate hooks", () => {
  test("the app's own grace, read from the setting the host is told of, plus 15 s", () => {
    const settings = { MYAPP_STOP_GRACE_SECONDS: "5" };

    const named = terminateGraceMs(
      { appDir: ".", stopGraceSetting: "MYAPP_STOP_GRACE_SECONDS" },
      settings,
    );
    const notNamed = terminateGraceMs({ appDir: "." }, settings);

    expect(named).toBe(20_000);
    expect(notNamed).toBe(45_000);
  });

  test("an explicit terminateGraceMs wins over the setting", () => {
    const grace = terminateGraceMs(
      { appDir: ".", stopGraceSetting: "MYAPP_STOP_GRACE_SECONDS", terminateGraceMs: 1000 },
      { MYAPP_STOP_GRACE_SECONDS: "5" },
    );

    expect(grace).toBe(1000);
  });
});
