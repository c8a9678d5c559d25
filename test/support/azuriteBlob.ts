/**
 * A real Blob Storage service for tests: Azurite's blob service, started like its table service
 * (`azurite.ts`), with a client of the account.
 */
import { BlobServiceClient } from "@azure/storage-blob";
import { startAzuriteService, type AzuriteService } from "./azurite.js";

/** A running Azurite blob service. */
export interface AzuriteBlob extends AzuriteService {
  /** A client of the account. */
  client(): BlobServiceClient;
}

/** Starts Azurite's blob service. */
export async function startAzuriteBlob(): Promise<AzuriteBlob> {
  const service = await startAzuriteService("blob");
  return {
    ...service,
    client: () => BlobServiceClient.fromConnectionString(service.connectionString),
  };
}
