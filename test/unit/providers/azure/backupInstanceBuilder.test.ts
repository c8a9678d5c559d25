import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../../src/domain/errors.js";
import {
  backupInstanceSpecFor,
  newBackupInstanceName,
  toArmBackupInstanceResource,
} from "../../../../src/providers/azure/backupInstanceBuilder.js";

const sub =
  "/subscriptions/5f1c3a2b-8d4e-4f60-9a7b-1c2d3e4f5a6b/resourceGroups/rg-db/providers/Microsoft.DBforPostgreSQL";
const policyId =
  "/subscriptions/5f1c3a2b-8d4e-4f60-9a7b-1c2d3e4f5a6b/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v/backupPolicies/p";
const uuid = "957d23b1-c679-4c94-ade6-c4d34635e149";

describe("backup instance builder", () => {
  it("builds a Single Server database instance exactly as the service's example", () => {
    // Arrange
    const spec = backupInstanceSpecFor({
      datasourceId: `${sub}/servers/testpostgresql/databases/empdb11`,
      location: "westus",
      policyId,
      secretUri: "https://samplevault.vault.azure.net/secrets/credentials",
    });

    // Act
    const body = toArmBackupInstanceResource(spec);

    // Assert
    expect(body).toEqual({
      properties: {
        objectType: "BackupInstance",
        friendlyName: "testpostgresql/empdb11",
        dataSourceInfo: {
          objectType: "Datasource",
          datasourceType: "Microsoft.DBforPostgreSQL/servers/databases",
          resourceID: `${sub}/servers/testpostgresql/databases/empdb11`,
          resourceName: "empdb11",
          resourceType: "Microsoft.DBforPostgreSQL/servers/databases",
          resourceLocation: "westus",
          resourceUri: "",
        },
        dataSourceSetInfo: {
          objectType: "DatasourceSet",
          datasourceType: "Microsoft.DBforPostgreSQL/servers/databases",
          resourceID: `${sub}/servers/testpostgresql`,
          resourceName: "testpostgresql",
          resourceType: "Microsoft.DBforPostgreSQL/servers",
          resourceLocation: "westus",
          resourceUri: "",
        },
        datasourceAuthCredentials: {
          objectType: "SecretStoreBasedAuthCredentials",
          secretStoreResource: {
            secretStoreType: "AzureKeyVault",
            uri: "https://samplevault.vault.azure.net/secrets/credentials",
          },
        },
        policyInfo: { policyId },
      },
    });
  });

  it("builds a Flexible Server instance with no secret and the server as its own datasource set", () => {
    const spec = backupInstanceSpecFor({
      datasourceId: `${sub}/flexibleServers/pgflex`,
      location: "eastasia",
      policyId,
    });

    const { properties } = toArmBackupInstanceResource(spec);

    expect(properties.friendlyName).toBe("pgflex");
    expect(properties.datasourceAuthCredentials).toBeUndefined();
    expect(properties.dataSourceInfo).toMatchObject({
      datasourceType: "Microsoft.DBforPostgreSQL/flexibleServers",
      resourceType: "Microsoft.DBforPostgreSQL/flexibleServers",
      resourceName: "pgflex",
      resourceLocation: "eastasia",
    });
    expect(properties.dataSourceSetInfo).toEqual({
      ...properties.dataSourceInfo,
      objectType: "DatasourceSet",
    });
  });

  it("names instances <server>-<db>-<uuid>, and <server>-<server>-<uuid> for a Flexible Server", () => {
    expect(newBackupInstanceName(`${sub}/servers/testpostgresql/databases/empdb11`, uuid)).toBe(
      `testpostgresql-empdb11-${uuid}`,
    );
    expect(newBackupInstanceName(`${sub}/flexibleServers/pgflex`, uuid)).toBe(
      `pgflex-pgflex-${uuid}`,
    );
    expect(newBackupInstanceName(`${sub}/flexibleServers/pgflex`)).toMatch(
      /^pgflex-pgflex-[0-9a-f-]{36}$/,
    );
  });

  it("refuses a Single Server database without a secret and a Flexible Server with one", () => {
    expect(() =>
      backupInstanceSpecFor({
        datasourceId: `${sub}/servers/s/databases/d`,
        location: "westus",
        policyId,
      }),
    ).toThrow(/Key Vault secret/);
    expect(() =>
      backupInstanceSpecFor({
        datasourceId: `${sub}/flexibleServers/f`,
        location: "westus",
        policyId,
        secretUri: "https://kv.vault.azure.net/secrets/x",
      }),
    ).toThrow(/managed identity/);
  });

  it("refuses a database of a Flexible Server, which Azure Backup protects only whole", () => {
    const act = () =>
      backupInstanceSpecFor({
        datasourceId: `${sub}/flexibleServers/f/databases/d`,
        location: "westus",
        policyId,
      });

    expect(act).toThrow(InvalidInputError);
    expect(act).toThrow(/whole/);
  });
});
