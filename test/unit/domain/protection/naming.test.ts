import { describe, expect, it } from "vitest";
import {
  formatDatabaseId,
  formatServerId,
  LOCAL_SCOPE,
} from "../../../../src/domain/protection/ids.js";
import {
  backupInstanceNameFor,
  datasourceTargetOf,
  friendlyNameFor,
} from "../../../../src/domain/protection/naming.js";

const uuid = "957D23B1-C679-4C94-ADE6-C4D34635E149";

describe("backup instance naming", () => {
  it("names a database instance <server>-<db>-<uuid> with the friendly name <server>/<db>", () => {
    const target = datasourceTargetOf(
      formatDatabaseId({
        ...LOCAL_SCOPE,
        kind: "servers",
        serverName: "testpostgresql",
        databaseName: "empdb11",
      }),
    );

    expect(backupInstanceNameFor(target, uuid)).toBe(
      "testpostgresql-empdb11-957d23b1-c679-4c94-ade6-c4d34635e149",
    );
    expect(friendlyNameFor(target)).toBe("testpostgresql/empdb11");
  });

  it("names a Flexible Server instance with the server name twice, as the CLI does", () => {
    const target = datasourceTargetOf(
      formatServerId({ ...LOCAL_SCOPE, kind: "flexibleServers", serverName: "pgflex" }),
    );

    expect(target.datasourceType).toBe("Microsoft.DBforPostgreSQL/flexibleServers");
    expect(backupInstanceNameFor(target, uuid)).toBe(
      "pgflex-pgflex-957d23b1-c679-4c94-ade6-c4d34635e149",
    );
    expect(friendlyNameFor(target)).toBe("pgflex");
  });

  it("refuses a Single Server as a whole-server datasource and a name without a UUID", () => {
    const single = formatServerId({ ...LOCAL_SCOPE, kind: "servers", serverName: "old" });
    const target = datasourceTargetOf(
      formatDatabaseId({ ...LOCAL_SCOPE, kind: "servers", serverName: "s", databaseName: "d" }),
    );

    expect(() => datasourceTargetOf(single)).toThrow(
      expect.objectContaining({ code: "INVALID_RESOURCE_ID" }),
    );
    expect(() => backupInstanceNameFor(target, "not-a-uuid")).toThrow(
      expect.objectContaining({ code: "INVALID_UUID" }),
    );
  });
});
