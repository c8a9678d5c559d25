/**
 * The PostgreSQL tooling a provider shares: connections, `pg_restore` and `psql` runs, and the
 * verification of a restored database against its dump. The local provider owns them; the Azure
 * provider's restore to a server loads and verifies with the same code, so that a restore in
 * Azure is verified exactly as a local one is.
 */
export { clientConfig, quoteIdent, quoteLiteral, withClient } from "./local/pgConnection.js";
export { postgresBinDir } from "./local/postgresCluster.js";
export { runTool, serverMajorOf, toolSessionOptions, ToolFailedError } from "./local/processes.js";
export { verificationSummary, verifyRestoredDatabase } from "./local/restoreVerification.js";
