import { describe, expect, it } from "vitest";
import { parseLocalServerList } from "../../../../src/domain/protection/localServers.js";

describe("LOCAL_POSTGRES_SERVERS", () => {
  it("reads named servers separated by commas or white space, Flexible Servers marked :flexible", () => {
    const { servers, problems } = parseLocalServerList(
      "sales=postgresql://admin:p%40ss@db1:5432/postgres,\n analytics:flexible=postgres://db2/postgres legacy:single=postgresql://db3",
    );

    expect(problems).toEqual([]);
    expect(servers).toEqual([
      {
        name: "sales",
        kind: "servers",
        connectionString: "postgresql://admin:p%40ss@db1:5432/postgres",
      },
      { name: "analytics", kind: "flexibleServers", connectionString: "postgres://db2/postgres" },
      { name: "legacy", kind: "servers", connectionString: "postgresql://db3" },
    ]);
  });

  it("names each bad entry by position without quoting its connection string", () => {
    const { servers, problems } = parseLocalServerList(
      "Bad_Name=postgresql://u:hunter2@h, okay=postgresql://h, okay=postgresql://h2, x=mysql://h",
    );

    expect(servers.map((s) => s.name)).toEqual(["okay"]);
    expect(problems.map((p) => p.path)).toEqual([
      "LOCAL_POSTGRES_SERVERS[0]",
      "LOCAL_POSTGRES_SERVERS[2]",
      "LOCAL_POSTGRES_SERVERS[3]",
    ]);
    expect(JSON.stringify(problems)).not.toContain("hunter2");
  });
});
