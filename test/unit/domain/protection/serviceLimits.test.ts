import { describe, expect, it } from "vitest";
import {
  answerServerWideLimits,
  answerServiceLimits,
  maxDumpableByteaBytes,
  serviceLimits,
  type ServiceLimitFacts,
} from "../../../../src/domain/protection/serviceLimits.js";

const GiB = 1024 ** 3;

const flexible: ServiceLimitFacts = {
  provider: "azure",
  datasourceKind: "server",
  serverKind: "flexibleServers",
  friendlyName: "pg-sales",
  server: { storageSizeGiB: 256, replicationRole: "Primary" },
  databasesNotRead: "no connection",
};

const ownedBy = (owner: string, name = "sales") => ({
  name,
  owner,
  sizeBytes: GiB,
  byteaSampledTables: [],
});

describe("answerServiceLimits", () => {
  it("has nothing to say of a primary within 1 TB, beyond the database checks it could not make", () => {
    // Act
    const answer = answerServiceLimits(flexible);

    // Assert
    expect(answer.refusals).toEqual([]);
    expect(answer.warnings.map((w) => [w.limit, w.checked])).toEqual([
      ["serviceOwnedDatabase", false],
      ["largeByteaValue", false],
    ]);
  });

  it("refuses a geo replica, citing the read-replica documentation and naming the primary", () => {
    const answer = answerServiceLimits({
      ...flexible,
      server: { replicationRole: "GeoAsyncReplica", primaryServerId: "/subscriptions/s/pg-main" },
    });

    expect(answer.refusals).toEqual([
      expect.objectContaining({
        limit: "readReplica",
        code: "READ_REPLICA_NOT_PROTECTABLE",
        recommendedAction: "Protect the primary server /subscriptions/s/pg-main instead",
        documentation: serviceLimits.readReplica.documentation,
      }),
    ]);
  });

  it("refuses a Single Server replica by its own role name", () => {
    const answer = answerServiceLimits({
      ...flexible,
      serverKind: "servers",
      server: { replicationRole: "Replica", storageSizeGiB: 100 },
    });

    expect(answer.refusals.map((r) => r.code)).toEqual(["READ_REPLICA_NOT_PROTECTABLE"]);
  });

  it("warns, without refusing, of storage over 1 TB: the data may still fit", () => {
    const answer = answerServiceLimits({
      ...flexible,
      server: { storageSizeGiB: 1025, replicationRole: "None" },
    });

    expect(answer.refusals).toEqual([]);
    expect(answer.warnings[0]).toMatchObject({ limit: "serverSize", checked: true });
  });

  it("refuses a Flexible Server whose measured data is over 1 TB", () => {
    const answer = answerServiceLimits({
      ...flexible,
      server: { storageSizeGiB: 4096, dataBytes: 1100 * GiB, replicationRole: "None" },
    });

    expect(answer.refusals.map((r) => r.code)).toEqual(["SERVER_TOO_LARGE_FOR_BACKUP"]);
  });

  it("takes an answer without storage or role as not checked, never as fine", () => {
    const answer = answerServiceLimits({ ...flexible, server: {} });

    expect(answer.refusals).toEqual([]);
    expect(answer.warnings.filter((w) => !w.checked).map((w) => w.limit)).toEqual([
      "readReplica",
      "serverSize",
      "serviceOwnedDatabase",
      "largeByteaValue",
    ]);
  });

  it("refuses a database owned by azuresu, whatever the case of the name", () => {
    const answer = answerServiceLimits({
      ...flexible,
      datasourceKind: "database",
      serverKind: "servers",
      server: { storageSizeGiB: 100, replicationRole: "None" },
      databases: [ownedBy("AzureSU")],
    });

    expect(answer.refusals.map((r) => r.code)).toEqual(["DATABASE_OWNED_BY_SERVICE_ROLE"]);
  });

  it("warns of a whole server's databases that its backups leave out", () => {
    const answer = answerServiceLimits({
      ...flexible,
      databases: [ownedBy("app"), ownedBy("azure_pg_admin", "reports")],
    });

    expect(answer.refusals).toEqual([]);
    expect(answer.warnings).toEqual([
      expect.objectContaining({
        limit: "serviceOwnedDatabase",
        checked: true,
        message: expect.stringContaining("reports (owned by azure_pg_admin)"),
      }),
    ]);
  });

  it("refuses a Single Server database over 400 GB", () => {
    const answer = answerServiceLimits({
      ...flexible,
      datasourceKind: "database",
      serverKind: "servers",
      server: { storageSizeGiB: 1000, replicationRole: "None" },
      databases: [{ ...ownedBy("app"), sizeBytes: 401 * GiB }],
    });

    expect(answer.refusals.map((r) => r.code)).toEqual(["SERVER_TOO_LARGE_FOR_BACKUP"]);
  });

  it("refuses a BYTEA value one byte over what a dump writes, and accepts one at the limit", () => {
    const withValue = (bytes: number): ServiceLimitFacts => ({
      ...flexible,
      provider: "local",
      databases: [
        { ...ownedBy("app"), largestBytea: { bytes, table: "public.scans", column: "page" } },
      ],
    });

    expect(answerServiceLimits(withValue(maxDumpableByteaBytes + 1)).refusals).toEqual([
      expect.objectContaining({ code: "BYTEA_VALUE_TOO_LARGE" }),
    ]);
    expect(answerServiceLimits(withValue(maxDumpableByteaBytes)).refusals).toEqual([]);
  });

  it("says which tables were only sampled for BYTEA values", () => {
    const answer = answerServiceLimits({
      ...flexible,
      provider: "local",
      databases: [{ ...ownedBy("app"), byteaSampledTables: ["public.events"] }],
    });

    expect(answer.warnings).toEqual([
      expect.objectContaining({
        limit: "largeByteaValue",
        checked: true,
        message: expect.stringContaining("sales.public.events"),
      }),
    ]);
  });

  it("applies neither the size, replica nor superuser rules to the local provider's pg_dump", () => {
    const answer = answerServiceLimits({
      ...flexible,
      provider: "local",
      server: { storageSizeGiB: 9000, replicationRole: "AsyncReplica" },
      databases: [ownedBy("postgres")],
    });

    expect(answer).toEqual({ refusals: [], warnings: [] });
  });
});

describe("answerServerWideLimits", () => {
  it("refuses a Single Server replica and keeps only the server's own warnings, leaving databases to be answered one by one", () => {
    // Act
    const answer = answerServerWideLimits({
      provider: "azure",
      datasourceKind: "server",
      serverKind: "servers",
      friendlyName: "pg-legacy-replica",
      server: { storageSizeGiB: 500, replicationRole: "Replica", primaryServerId: "/p" },
      databases: [{ ...ownedBy("azure_pg_admin", "ledger") }],
    });

    // Assert
    expect(answer.refusals.map((r) => [r.limit, r.code])).toEqual([
      ["readReplica", "READ_REPLICA_NOT_PROTECTABLE"],
    ]);
    expect(answer.warnings.map((w) => w.limit)).toEqual(["serverSize"]);
  });

  it("has nothing to say of a local server, whose pg_dump has no server-wide limit", () => {
    // Act
    const answer = answerServerWideLimits({
      provider: "local",
      datasourceKind: "server",
      serverKind: "servers",
      friendlyName: "local",
      databasesNotRead: "only the server was asked",
    });

    // Assert
    expect(answer).toEqual({ refusals: [], warnings: [] });
  });
});
