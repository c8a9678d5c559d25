/**
 * A protection run against the fake Resource Manager, for the tests of what Resource Manager
 * refuses the app's identity while it protects a server.
 */
import {
  protectDatasource,
  type ProtectDatasourceOutput,
} from "../../../src/orchestrations/protectDatasource.js";
import type { AzureServices } from "../../../src/providers/azure/azureServices.js";
import type { FakeArm } from "./fakeArmServer.js";
import { azureServicesAgainst, createDefaultPolicy } from "./index.js";
import { activitiesOver, runOrchestration } from "./orchestrationRunner.js";

/** Where {@link addUnprotectedServer} puts the vault and the server. */
export interface UnprotectedServerSpec {
  /** The vault's name, in resource group `rg-backup`. */
  readonly vaultName: string;
  readonly resourceGroup: string;
  readonly serverName: string;
}

/** What {@link addUnprotectedServer} added, and the app's adapters over the fake. */
export interface UnprotectedServer {
  readonly services: AzureServices;
  readonly vaultId: string;
  readonly serverId: string;
  readonly serverName: string;
}

/**
 * Adds a vault holding the default policy `weekly` and a Flexible Server to the fake, with no
 * role given to anyone: what a protection starts from before the test says who may do what.
 */
export async function addUnprotectedServer(
  fake: FakeArm,
  spec: UnprotectedServerSpec,
): Promise<UnprotectedServer> {
  const vaultId = fake.addVault("rg-backup", spec.vaultName);
  const serverId = fake.addPostgresServer({
    resourceGroup: spec.resourceGroup,
    name: spec.serverName,
    kind: "flexibleServers",
  });
  const services = azureServicesAgainst(fake);
  await createDefaultPolicy(services.backup, vaultId);
  return { services, vaultId, serverId, serverName: spec.serverName };
}

/** Runs the protection of the server into its vault with policy `weekly` to its end. */
export function runProtection(
  server: UnprotectedServer,
  options: { readonly autoGrantRoleAssignments?: boolean } = {},
): Promise<{ output: ProtectDatasourceOutput; activities: string[] }> {
  return runOrchestration<ProtectDatasourceOutput>(
    protectDatasource,
    {
      datasource: { serverName: server.serverName },
      vaultId: server.vaultId,
      policyName: "weekly",
    },
    activitiesOver(server.services, options),
  );
}
