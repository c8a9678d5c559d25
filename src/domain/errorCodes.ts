/**
 * The one catalogue of the codes pgprotect states failures with: in problem details, activity
 * results, events, input problems and CLI lines. Every code is SNAKE_CASE and means one fact.
 *
 * @remarks The catalogue is part of the API (listed in the OpenAPI document and the README):
 * codes may be added, never reworded. Where a failure comes from Azure (or the local provider
 * mirrors one), pgprotect's code stands here and the service's own code travels beside it as
 * `serviceCode`; `serviceCode` on an entry is the one the service uses for that fact (the local
 * provider mirrors it), `otherServiceCodes` are further service codes meaning the same fact.
 */

/** One entry of the catalogue. */
export interface ErrorCodeEntry {
  /** One line saying what happened. */
  readonly meaning: string;
  /**
   * The HTTP status the code is usually answered with, where it reaches HTTP (the local provider
   * answers 400 for some user errors the Azure provider answers 403 or 409, as the service does).
   */
  readonly httpStatus?: number;
  /** The service's code for the same fact, carried as `serviceCode` (and mirrored locally). */
  readonly serviceCode?: string;
  /** Further service codes meaning the same fact. */
  readonly otherServiceCodes?: readonly string[];
}

/** Every code pgprotect states, with its meaning and HTTP status. */
export const errorCatalogue = {
  // ---- requests and input -----------------------------------------------------------------
  BODY_MISSING: { meaning: "The request has no JSON body.", httpStatus: 400 },
  BODY_NOT_JSON: { meaning: "The request body is not valid JSON.", httpStatus: 400 },
  BODY_INVALID: { meaning: "The request body breaks the request's schema.", httpStatus: 400 },
  REQUEST_BODY_TOO_LARGE: {
    meaning: "The request body is larger than the limit.",
    httpStatus: 413,
  },
  UNSUPPORTED_MEDIA_TYPE: {
    meaning: "The request body is not application/json.",
    httpStatus: 415,
  },
  INVALID_INPUT: { meaning: "An input breaks a rule (see the problems listed).", httpStatus: 400 },
  INVALID_RESOURCE_ID: { meaning: "A value is not the ARM id it should be.", httpStatus: 400 },
  INVALID_RESOURCE_NAME: { meaning: "A resource name is empty or holds '/'.", httpStatus: 400 },
  INVALID_UUID: { meaning: "A value is not a UUID.", httpStatus: 400 },
  INVALID_WATERMARK: {
    meaning: "A watermark or `since` is not an instant of an earlier page.",
    httpStatus: 400,
  },
  JOBS_QUERY_INVALID: {
    meaning: "A query parameter of the jobs list is invalid.",
    httpStatus: 400,
  },
  JOB_ID_INVALID: {
    meaning: "A job id is neither a job GUID nor a job's ARM id.",
    httpStatus: 400,
  },
  VAULT_NAME_INVALID: { meaning: "A vault name breaks the naming rules.", httpStatus: 400 },
  POLICY_NAME_INVALID: { meaning: "A policy name breaks the naming rules.", httpStatus: 400 },
  BACKUP_INSTANCE_NAME_INVALID: {
    meaning: "A backup instance name breaks the naming rules.",
    httpStatus: 400,
  },
  SERVER_NAME_INVALID: { meaning: "A server name breaks the naming rules.", httpStatus: 400 },
  DATABASE_NAME_INVALID: { meaning: "A database name breaks the naming rules.", httpStatus: 400 },
  TARGET_DATABASE_NAME_INVALID: {
    meaning: "A restore's target database name breaks the naming rules.",
    httpStatus: 400,
  },
  FILE_PREFIX_INVALID: {
    meaning: "A restore's file prefix breaks the naming rules.",
    httpStatus: 400,
  },
  TARGET_FOLDER_INVALID: {
    meaning: "A restore's target folder breaks the naming rules.",
    httpStatus: 400,
  },
  UNAUTHENTICATED: { meaning: "The request carries no authenticated principal.", httpStatus: 401 },
  FORBIDDEN: { meaning: "The caller's principal may not do this.", httpStatus: 403 },
  DATASOURCE_UNNAMED: {
    meaning: "A request names no datasource (datasourceId, or serverName and databaseName).",
    httpStatus: 400,
  },
  ALL_DATABASES_ON_FLEXIBLE_SERVER: {
    meaning: "A Flexible Server is protected whole; it has no per-database protection.",
    httpStatus: 400,
  },

  // ---- configuration ------------------------------------------------------------------------
  CONFIG_INVALID: { meaning: "A setting read at start is missing or invalid.", httpStatus: 500 },
  PLANS_INVALID: { meaning: "The backup plans setting is invalid.", httpStatus: 400 },
  PLAN_SCHEDULE_INVALID: { meaning: "A backup plan's schedule is not valid.", httpStatus: 400 },
  DRILL_SCHEDULES_INVALID: {
    meaning: "The restore drill schedules setting is invalid.",
    httpStatus: 400,
  },
  NOTIFICATION_SETTINGS_INVALID: {
    meaning: "The notification settings are not valid.",
    httpStatus: 400,
  },
  SMTP_PLAINTEXT_NOT_LOOPBACK: {
    meaning: "Clear-text SMTP is asked for a relay that is not on the loopback.",
    httpStatus: 500,
  },
  SMTP_TLS_CA_FILE_UNREADABLE: {
    meaning: "The SMTP relay's CA file cannot be read.",
    httpStatus: 500,
  },
  SMTP_TLS_CA_FILE_NOT_PEM: {
    meaning: "The SMTP relay's CA file holds no PEM certificate.",
    httpStatus: 500,
  },
  VAULT_NOT_CONFIGURED: {
    meaning: "No vault was named, or the vault named is not one of the app's vaults.",
    httpStatus: 404,
  },

  // ---- vaults, datasources, secrets -----------------------------------------------------------
  VAULT_NOT_FOUND: { meaning: "There is no vault of that name.", httpStatus: 404 },
  VAULT_IDENTITY_MISSING: {
    meaning: "The Backup vault has no managed identity, so it cannot be given roles.",
    httpStatus: 400,
  },
  DATASOURCE_NOT_FOUND: {
    meaning: "The server or database named does not exist.",
    httpStatus: 404,
  },
  RESOURCE_NOT_FOUND: {
    meaning: "A backup instance, policy, job, recovery point or resource does not exist.",
    httpStatus: 404,
    serviceCode: "ResourceNotFound",
    otherServiceCodes: ["ResourceGroupNotFound"],
  },
  SECRET_REQUIRED: {
    meaning: "A database is protected with a connection string, but no secretUri was given.",
    httpStatus: 400,
  },
  SECRET_NOT_SUPPORTED: {
    meaning: "A Flexible Server is reached with the vault's identity; it takes no secret.",
    httpStatus: 400,
  },
  SECRET_NOT_FOUND: {
    meaning: "The secret named does not exist.",
    httpStatus: 404,
    serviceCode: "SecretNotFound",
  },
  SECRET_DISABLED: {
    meaning: "The secret is disabled.",
    httpStatus: 409,
    serviceCode: "SecretDisabled",
  },
  SECRET_EMPTY: {
    meaning: "The secret has no value.",
    httpStatus: 409,
  },
  INVALID_SECRET_URI: {
    meaning: "A value is not a secret URI (Key Vault, or the local secret store's).",
    httpStatus: 400,
  },
  CONNECTION_STRING_INVALID: {
    meaning: "The secret does not hold a PostgreSQL connection string (never quoted back).",
    httpStatus: 400,
  },
  KEY_VAULT_REQUEST_FAILED: {
    meaning: "Key Vault refused or failed a request with a code pgprotect does not know.",
    httpStatus: 502,
  },

  // ---- the service (Azure Backup, Resource Manager) -----------------------------------------
  AZURE_REQUEST_FAILED: {
    meaning: "Azure answered with a code pgprotect does not know; `serviceCode` carries it.",
    httpStatus: 502,
  },
  AZURE_THROTTLED: {
    meaning: "Resource Manager is throttling requests; try again later.",
    httpStatus: 429,
    serviceCode: "TooManyRequests",
  },
  AUTHORIZATION_FAILED: {
    meaning: "The app's identity may not do this on the Backup vault or resource.",
    httpStatus: 403,
    serviceCode: "AuthorizationFailed",
  },
  RESOURCE_MANAGER_UNREACHABLE: {
    meaning: "Resource Manager could not be reached (network or transport failure).",
    httpStatus: 502,
  },
  INVALID_SERVICE_RESPONSE: {
    meaning: "The service answered without a part pgprotect needs.",
    httpStatus: 502,
  },
  REQUEST_OUTCOME_UNKNOWN: {
    meaning: "The answer to a request was lost and what the service did could not be checked.",
    httpStatus: 502,
  },
  OPERATION_STILL_RUNNING: {
    meaning: "A service operation outlasted the short wait a call gives it; asked again later.",
    httpStatus: 503,
  },

  // ---- protection -----------------------------------------------------------------------------
  DATASOURCE_ALREADY_PROTECTED: {
    meaning: "The datasource is already protected.",
    httpStatus: 409,
    serviceCode: "UserErrorDppDatasourceAlreadyProtected",
  },
  MISSING_REQUIRED_PERMISSIONS: {
    meaning: "The vault cannot reach the datasource or its secret with the access it has.",
    httpStatus: 403,
    serviceCode: "UserErrorMissingRequiredPermissions",
  },
  MISSING_DB_PERMISSIONS: {
    meaning: "The database user lacks privileges (password, CONNECT or SELECT).",
    httpStatus: 403,
    serviceCode: "UserErrorMissingDBPermissions",
  },
  DATASOURCE_UNREACHABLE: {
    meaning:
      "The datasource could not be read (connection refused, database dropped, dump failed).",
    httpStatus: 502,
    serviceCode: "UserErrorDatasourceUnreachable",
  },
  DATASOURCE_TYPE_MISMATCH: {
    meaning: "The datasource's type is not the one the backup instance names.",
    httpStatus: 400,
    serviceCode: "UserErrorDatasourceTypeMismatch",
  },
  BACKUP_INSTANCE_NAME_IN_USE: {
    meaning: "A backup instance of that name protects another datasource.",
    httpStatus: 409,
    serviceCode: "UserErrorBackupInstanceNameInUse",
  },
  BACKUP_INSTANCE_NOT_FOUND: {
    meaning: "There is no backup instance of that name.",
    httpStatus: 404,
  },
  PROTECTION_NOT_CONFIGURED: {
    meaning: "The backup instance is not in a state that allows backups (protection stopped).",
    httpStatus: 409,
    serviceCode: "UserErrorProtectionNotConfigured",
  },
  PROTECTION_STATE_CONFLICT: {
    meaning:
      "The backup instance's protection state does not allow the lifecycle action, or another action is running on it.",
    httpStatus: 409,
  },
  PROTECTION_LIFECYCLE_NOT_SUPPORTED: {
    meaning: "The provider offers no protection lifecycle (stop, suspend, resume, delete).",
    httpStatus: 501,
  },
  LIFECYCLE_OPERATION_NOT_FOUND: {
    meaning: "There is no lifecycle operation of that id.",
    httpStatus: 404,
  },
  PROTECTION_ACTION_FAILED: {
    meaning:
      "A lifecycle action still failed after its retries, or the instance did not reach its state.",
  },
  DELETED_BACKUP_INSTANCE_NOT_FOUND: {
    meaning: "There is no soft-deleted backup instance of that name.",
    httpStatus: 404,
  },
  UNDELETE_RETENTION_EXPIRED: {
    meaning: "The deleted backup instance is past its soft-delete retention.",
    httpStatus: 409,
  },
  PROTECTION_NOT_FOUND: {
    meaning: "There is no protection operation of that id.",
    httpStatus: 404,
  },
  PROTECTION_ID_IN_USE: {
    meaning: "The operation id holds a live operation for another target.",
    httpStatus: 409,
  },
  PROTECTION_EXISTS_WITH_OTHER_SETTINGS: {
    meaning: "The target is already protected by an operation with other settings.",
    httpStatus: 409,
  },
  PROTECTION_START_FAILED: {
    meaning: "The protection operation could not start.",
    httpStatus: 503,
  },
  PROTECTION_STEP_FAILED: {
    meaning: "A protection step still failed after its retries, or failed unexpectedly.",
  },
  PROTECTION_EVENT_NOT_PUBLISHED: {
    meaning: "The backup instance is configured, but its Configured event could not be published.",
  },
  PROTECTION_TIMED_OUT: {
    meaning: "The backup instance stayed in ConfiguringProtection past the polling bound.",
  },
  CONFIGURING_PROTECTION_FAILED: {
    meaning: "The backup instance left ConfiguringProtection for a state other than configured.",
    httpStatus: 502,
  },
  PROTECTION_ORCHESTRATION_FAILED: {
    meaning: "The protection orchestration failed with an exception nothing caught.",
  },
  PROTECTION_TERMINATED: {
    meaning: "The protection orchestration was terminated before it stated an outcome.",
  },
  PROTECTION_ENDED_WITHOUT_OUTCOME: {
    meaning: "The protection orchestration completed without an output (an older history).",
  },
  PROTECTION_IN_PROGRESS: {
    meaning: "A database's own protection was running when the server's reached it.",
  },
  PROTECTION_NOT_RUN: { meaning: "A database's protection could not start or crashed." },
  PROTECTION_STUCK: {
    meaning: "A database's protection was still running when the server's wait ended.",
  },
  PROTECTION_ID_SHARED: {
    meaning: "Two databases of a server map to one protection id; only the first was protected.",
  },
  DATABASES_NOT_PROTECTED: {
    meaning: "Some databases of a server were not protected (each is listed).",
  },
  SERVER_PROTECTION_FAILED: {
    meaning: "A server's protection orchestration itself failed.",
  },

  // ---- policies -------------------------------------------------------------------------------
  POLICY_NOT_FOUND: {
    meaning: "The vault has no policy of that name.",
    httpStatus: 404,
    otherServiceCodes: ["UserErrorPolicyNotFound"],
  },
  POLICY_NOT_IN_VAULT: {
    meaning: "The policy named is not a policy of the backup instance's vault.",
    httpStatus: 400,
    serviceCode: "UserErrorPolicyNotInVault",
  },
  POLICY_DATASOURCE_TYPE_MISMATCH: {
    meaning: "The policy does not protect the datasource's type.",
    httpStatus: 400,
    serviceCode: "UserErrorPolicyDatasourceTypeMismatch",
  },
  // ---- the service's limits, checked at onboarding (domain/protection/serviceLimits.ts) ------
  SERVER_TOO_LARGE_FOR_BACKUP: {
    meaning: "The server's data is over the size Azure Backup supports for it.",
    httpStatus: 422,
  },
  READ_REPLICA_NOT_PROTECTABLE: {
    meaning: "The server is a read replica; its primary is the one to protect.",
    httpStatus: 422,
  },
  DATABASE_OWNED_BY_SERVICE_ROLE: {
    meaning:
      "The database is owned by a service role (azuresu, azure_pg_admin) that backups exclude.",
    httpStatus: 422,
  },
  BYTEA_VALUE_TOO_LARGE: {
    meaning: "A BYTEA value is too large for a logical dump to write.",
    httpStatus: 422,
  },
  POLICY_UPDATE_NOT_SUPPORTED: {
    meaning: "A policy of that name exists with other settings; policies cannot be modified.",
    httpStatus: 409,
    serviceCode: "UserErrorPolicyUpdateNotSupported",
  },
  POLICY_INVALID: {
    meaning: "The policy breaks the service's rules (problems listed).",
    httpStatus: 400,
  },
  POLICY_SPEC_INVALID: { meaning: "The policy spec is not valid.", httpStatus: 400 },
  POLICY_NOT_AN_OBJECT: { meaning: "The policy is not a JSON object.", httpStatus: 400 },
  POLICY_OBJECT_TYPE_INVALID: {
    meaning: "The policy's objectType is not BackupPolicy.",
    httpStatus: 400,
  },
  POLICY_DATASOURCE_TYPE_MISSING: {
    meaning: "The policy lists no datasource type.",
    httpStatus: 400,
  },
  POLICY_DATASOURCE_TYPE_UNSUPPORTED: {
    meaning: "A datasource type is not a PostgreSQL one.",
    httpStatus: 400,
  },
  POLICY_DATASOURCE_TYPE_MIXED: {
    meaning: "The policy lists more than one datasource type.",
    httpStatus: 400,
  },
  POLICY_RULES_MISSING: { meaning: "The policy has no list of rules.", httpStatus: 400 },
  POLICY_RULE_INVALID: { meaning: "A policy rule is not a JSON object.", httpStatus: 400 },
  POLICY_RULE_OBJECT_TYPE_INVALID: {
    meaning: "A rule's objectType is neither AzureBackupRule nor AzureRetentionRule.",
    httpStatus: 400,
  },
  POLICY_RULE_NAME_MISSING: { meaning: "A policy rule has no name.", httpStatus: 400 },
  POLICY_BACKUP_RULE_MISSING: { meaning: "The policy has no backup rule.", httpStatus: 400 },
  POLICY_BACKUP_RULE_DUPLICATE: {
    meaning: "The policy has more than one backup rule.",
    httpStatus: 400,
  },
  POLICY_BACKUP_DATASTORE_INVALID: {
    meaning: "The backup rule's datastore is not VaultStore.",
    httpStatus: 400,
  },
  POLICY_BACKUP_PARAMETERS_INVALID: {
    meaning: "The backup rule's backupParameters are not AzureBackupParams.",
    httpStatus: 400,
  },
  POLICY_BACKUP_TYPE_UNSUPPORTED: {
    meaning: "The backup type is not Full.",
    httpStatus: 400,
  },
  POLICY_TRIGGER_INVALID: {
    meaning: "The backup rule's trigger is not a ScheduleBasedTriggerContext.",
    httpStatus: 400,
  },
  POLICY_DATASTORE_UNSUPPORTED: {
    meaning: "A datastore is not one PostgreSQL backups use (VaultStore, ArchiveStore).",
    httpStatus: 400,
  },
  POLICY_DURATION_INVALID: { meaning: "A duration is not an ISO 8601 duration.", httpStatus: 400 },
  POLICY_COPY_TARGET_UNSUPPORTED: {
    meaning: "Recovery points are copied only from VaultStore to ArchiveStore.",
    httpStatus: 400,
  },
  POLICY_COPY_DUPLICATE: {
    meaning: "A lifecycle copies to ArchiveStore more than once.",
    httpStatus: 400,
  },
  POLICY_COPY_OPTION_INVALID: {
    meaning: "A copy option is not one the service knows.",
    httpStatus: 400,
  },
  POLICY_COPY_AFTER_DELETION: {
    meaning: "A copy to ArchiveStore would start after its vault copy is deleted.",
    httpStatus: 400,
  },
  POLICY_LIFECYCLE_DUPLICATE: {
    meaning: "A retention rule has more than one lifecycle for one datastore.",
    httpStatus: 400,
  },
  POLICY_LIFECYCLE_VAULT_MISSING: {
    meaning: "A retention rule has no VaultStore lifecycle.",
    httpStatus: 400,
  },
  POLICY_LIFECYCLE_ARCHIVE_MISSING: {
    meaning: "A retention rule copies to ArchiveStore but has no ArchiveStore lifecycle.",
    httpStatus: 400,
  },
  POLICY_RETENTION_RULE_MISSING: {
    meaning: "A tag has no retention rule to keep its backups by.",
    httpStatus: 400,
  },
  POLICY_DEFAULT_TAG_MISSING: { meaning: "The trigger has no default tag.", httpStatus: 400 },
  POLICY_TAG_CRITERIA_VALUE_INVALID: {
    meaning: "A tag criterion's value is not one the service allows.",
    httpStatus: 400,
  },
  SCHEDULE_MISSING: { meaning: "The trigger has no schedule.", httpStatus: 400 },
  SCHEDULE_INVALID: { meaning: "The schedule is not valid (problems listed).", httpStatus: 400 },
  SCHEDULE_INTERVAL_INVALID: { meaning: "A repeating interval is not valid.", httpStatus: 400 },
  SCHEDULE_INTERVAL_TYPE_INVALID: {
    meaning: "An interval type is not Weekly, Daily or Hourly.",
    httpStatus: 400,
  },
  SCHEDULE_INTERVAL_COUNT_INVALID: {
    meaning: "An interval count is not allowed.",
    httpStatus: 400,
  },
  SCHEDULE_INTERVAL_DUPLICATE: {
    meaning: "Two intervals fire on the same weekday at the same time.",
    httpStatus: 400,
  },
  SCHEDULE_DAYS_MISSING: { meaning: "The schedule names no day.", httpStatus: 400 },
  SCHEDULE_DAY_INVALID: { meaning: "A schedule day is not a date and time.", httpStatus: 400 },
  SCHEDULE_FREQUENCY_MIXED: {
    meaning: "The intervals repeat at different frequencies.",
    httpStatus: 400,
  },
  SCHEDULE_FREQUENCY_UNSUPPORTED: {
    meaning: "The frequency is not one the datasource supports (PostgreSQL: weekly).",
    httpStatus: 400,
  },
  SCHEDULE_FLEXIBLE_SERVER_WEEKLY_LIMIT: {
    meaning: "A Flexible Server policy schedules more than one backup a week.",
    httpStatus: 400,
  },
  SCHEDULE_TIME_ZONE_INVALID: { meaning: "The time zone is not known.", httpStatus: 400 },
  TAG_INVALID: {
    meaning: "A tagging criterion lacks its tag, default flag or priority.",
    httpStatus: 400,
  },
  TAG_DUPLICATE: { meaning: "A tag is defined twice.", httpStatus: 400 },
  TAG_ID_MISMATCH: { meaning: "A tag's id is not the one the service gives it (a warning)." },
  TAG_DEFAULT_INVALID: { meaning: "The default tag is not named Default.", httpStatus: 400 },
  TAG_DEFAULT_DUPLICATE: { meaning: "More than one tag is the default.", httpStatus: 400 },
  TAG_DEFAULT_MISSING: { meaning: "No tag is the default.", httpStatus: 400 },
  TAG_DEFAULT_REQUIRED: { meaning: "The Default tag cannot be removed.", httpStatus: 400 },
  TAG_NAME_UNSUPPORTED: {
    meaning: "A tag name is not a retention tag the datasource supports.",
    httpStatus: 400,
  },
  TAG_PRIORITY_MISMATCH: {
    meaning: "A tag's priority is not the one the service gives it.",
    httpStatus: 400,
  },
  TAG_CRITERIA_EMPTY: { meaning: "A tag has no criteria, so it never applies.", httpStatus: 400 },
  TAG_CRITERIA_INVALID: { meaning: "A tag criterion is not valid.", httpStatus: 400 },
  TAG_NEVER_MATCHES: { meaning: "No scheduled backup falls on a tag's days (a warning)." },
  TAG_NOT_FOUND: { meaning: "The policy has no retention tag of that name.", httpStatus: 400 },
  TAG_WITHOUT_RETENTION_RULE: {
    meaning: "A tag has no retention rule of the same name.",
    httpStatus: 400,
  },
  RETENTION_RULE_DUPLICATE: { meaning: "A retention rule is defined twice.", httpStatus: 400 },
  RETENTION_RULE_NAME_UNSUPPORTED: {
    meaning: "A retention rule's name is not one the datasource supports.",
    httpStatus: 400,
  },
  RETENTION_RULE_NOT_FOUND: {
    meaning: "The policy has no retention rule of that name.",
    httpStatus: 400,
  },
  RETENTION_RULE_DEFAULT_REQUIRED: {
    meaning: "The Default retention rule cannot be removed.",
    httpStatus: 400,
  },
  RETENTION_RULE_LIFECYCLES_MISSING: {
    meaning: "A retention rule given on the command line has no lifecycle.",
    httpStatus: 400,
  },
  RETENTION_RULE_WITHOUT_TAG: {
    meaning: "A retention rule has no tag of the same name.",
    httpStatus: 400,
  },
  RETENTION_DEFAULT_INVALID: {
    meaning: "The default retention rule is not named Default.",
    httpStatus: 400,
  },
  RETENTION_DEFAULT_DUPLICATE: {
    meaning: "More than one retention rule is the default.",
    httpStatus: 400,
  },
  RETENTION_DEFAULT_MISSING: {
    meaning: "The policy has no Default retention rule.",
    httpStatus: 400,
  },
  RETENTION_LIFECYCLES_MISSING: { meaning: "A retention rule has no lifecycle.", httpStatus: 400 },
  RETENTION_LIFECYCLE_INVALID: { meaning: "A lifecycle is not a JSON object.", httpStatus: 400 },
  RETENTION_LIFECYCLE_DUPLICATE: {
    meaning: "A retention rule has two lifecycles for one datastore.",
    httpStatus: 400,
  },
  RETENTION_VAULT_LIFECYCLE_MISSING: {
    meaning: "A retention rule does not say how long backups stay in VaultStore.",
    httpStatus: 400,
  },
  RETENTION_ARCHIVE_UNREACHABLE: {
    meaning: "A retention rule keeps backups in ArchiveStore but never copies them there.",
    httpStatus: 400,
  },
  RETENTION_ARCHIVE_LIFECYCLE_MISSING: {
    meaning: "A retention rule copies to ArchiveStore but has no ArchiveStore lifecycle.",
    httpStatus: 400,
  },
  RETENTION_ARCHIVE_EARLY_DELETION: {
    meaning: "Archived recovery points are deleted before 180 days (a warning).",
  },
  RETENTION_DATASTORE_UNSUPPORTED: {
    meaning: "A lifecycle's datastore is neither VaultStore nor ArchiveStore.",
    httpStatus: 400,
  },
  RETENTION_DURATION_INVALID: { meaning: "A retention duration is not valid.", httpStatus: 400 },
  RETENTION_DURATION_TOO_LONG: {
    meaning: "A retention duration is longer than 10 years.",
    httpStatus: 400,
  },
  RETENTION_TOTAL_TOO_LONG: {
    meaning: "Vault and archive retention together exceed 10 years.",
    httpStatus: 400,
  },
  RETENTION_COPY_INVALID: {
    meaning: "A copy setting lacks copyAfter or dataStore.",
    httpStatus: 400,
  },
  RETENTION_COPY_TARGET_INVALID: {
    meaning: "A copy goes elsewhere than from VaultStore to ArchiveStore.",
    httpStatus: 400,
  },
  RETENTION_COPY_TOO_LATE: {
    meaning: "The copy to ArchiveStore comes after the VaultStore copy is deleted.",
    httpStatus: 400,
  },
  LIFECYCLE_DURATION_INVALID: {
    meaning: "A lifecycle's retention duration (count or type) is not valid.",
    httpStatus: 400,
  },
  LIFECYCLE_DATASTORE_INVALID: {
    meaning: "A lifecycle's datastore is not valid.",
    httpStatus: 400,
  },
  LIFECYCLE_COPY_INCOMPLETE: {
    meaning: "A target datastore and a copy option are given one without the other.",
    httpStatus: 400,
  },
  LIFECYCLE_COPY_OPTION_INVALID: { meaning: "A copy option is not valid.", httpStatus: 400 },
  LIFECYCLE_COPY_DURATION_INVALID: {
    meaning: "A custom copy's duration is missing, invalid or given without CustomCopyOption.",
    httpStatus: 400,
  },
  SIMULATION_INVALID: { meaning: "A retention simulation request is not valid.", httpStatus: 400 },
  SIMULATION_INSTANT_INVALID: {
    meaning: "A simulation instant is not an instant.",
    httpStatus: 400,
  },
  SIMULATION_WINDOW_EMPTY: {
    meaning: "A simulation window ends before it starts.",
    httpStatus: 400,
  },
  SIMULATION_WINDOW_TOO_LONG: {
    meaning: "A simulation window is longer than a simulation covers.",
    httpStatus: 400,
  },
  SIMULATION_TOO_MANY_BACKUPS: {
    meaning: "A simulation would take more backups than it covers.",
    httpStatus: 400,
  },
  SIMULATION_SIZE_INVALID: { meaning: "A simulation's backup size is below 0.", httpStatus: 400 },
  DASHBOARD_ASSET_NOT_FOUND: {
    meaning: "The dashboard has no script or style sheet of that name.",
    httpStatus: 404,
  },
  CALENDAR_YEAR_INVALID: {
    meaning: "A retention calendar's year is not a year from 1970 to 9999.",
    httpStatus: 400,
  },
  SIMULATION_GROWTH_INVALID: {
    meaning: "A simulation's monthly growth is not a fraction above -1.",
    httpStatus: 400,
  },

  // ---- backups, restores, jobs, recovery points -------------------------------------------------
  ADHOC_INVALID: { meaning: "An ad-hoc backup request is not valid.", httpStatus: 400 },
  ADHOC_RULE_IS_RETENTION_RULE: {
    meaning: "An ad-hoc backup names a retention rule where a backup rule belongs.",
    httpStatus: 400,
  },
  ADHOC_RULE_NOT_FOUND: {
    meaning: "An ad-hoc backup names a backup rule the policy does not have.",
    httpStatus: 400,
    serviceCode: "UserErrorBackupRuleNotFound",
  },
  ADHOC_TAG_NOT_FOUND: {
    meaning: "An ad-hoc backup names a retention tag the policy has no rule for.",
    httpStatus: 400,
    serviceCode: "UserErrorRetentionTagNotFound",
  },
  ADHOC_RULE_NAME_INVALID: {
    meaning: "An ad-hoc backup's rule name is not valid.",
    httpStatus: 400,
  },
  ADHOC_RETENTION_TAG_INVALID: {
    meaning: "An ad-hoc backup's retention tag has no retention rule.",
    httpStatus: 400,
  },
  BACKUP_IN_PROGRESS: {
    meaning: "A backup of the same backup instance is running; one runs at a time.",
    httpStatus: 409,
    serviceCode: "UserErrorBackupInProgress",
  },
  BACKUP_LIMIT_PER_WEEK_REACHED: {
    meaning: "A Flexible Server allows one backup a week and this week's is taken.",
    httpStatus: 409,
  },
  VAULT_STORAGE_FULL: {
    meaning: "The vault has no room for the recovery point.",
    httpStatus: 507,
    serviceCode: "UserErrorVaultStorageFull",
  },
  JOB_INTERRUPTED: {
    meaning: "The provider stopped while the job ran and its attempts are used up.",
    httpStatus: 500,
    serviceCode: "UserErrorJobInterrupted",
  },
  JOB_NOT_FOUND: { meaning: "There is no job of that id.", httpStatus: 404 },
  JOB_WATCH_INCOMPLETE: {
    meaning: "A job watcher pass could not list or publish; the next pass starts from there.",
  },
  RECOVERY_POINT_NOT_FOUND: {
    meaning: "The backup instance has no recovery point of that id.",
    httpStatus: 404,
  },
  NO_RECOVERY_POINT: { meaning: "The backup instance has no recovery point yet.", httpStatus: 409 },
  RECOVERY_POINT_CORRUPT: {
    meaning: "A recovery point's file does not match the digest or size recorded when it was made.",
    httpStatus: 500,
  },
  RESTORE_TARGET_INVALID: {
    meaning: "The restore target is not allowed for this datasource, or already exists.",
    httpStatus: 400,
    serviceCode: "UserErrorInvalidRestoreTarget",
  },
  RESTORE_TARGET_NOT_SUPPORTED: {
    meaning: "A Flexible Server recovery point can only be restored as files.",
    httpStatus: 400,
  },
  RESTORE_TARGET_EXISTS: {
    meaning: "The restore's target database exists already.",
    httpStatus: 409,
  },
  RESTORE_FAILED: {
    meaning: "The restore failed; the partly restored database was dropped.",
    httpStatus: 500,
    serviceCode: "UserErrorRestoreFailed",
  },
  RESTORE_VERIFICATION_FAILED: {
    meaning: "The restored data differ from the recovery point.",
    httpStatus: 500,
    serviceCode: "UserErrorRestoreVerificationFailed",
  },
  RESTORE_STORAGE_ACCOUNT_REQUIRED: {
    meaning:
      "The storage account of a restore's blob container cannot be told from its URL (no account, or several, of that name): its ARM id must be sent.",
    httpStatus: 400,
  },
  RESTORED_FILES_NOT_FOUND: {
    meaning:
      "The files a restore as files wrote are not in the container (or not one per database asked).",
    httpStatus: 404,
  },
  RESTORED_FILES_AMBIGUOUS: {
    meaning: "The restore wrote several databases' dumps; the one to load must be named.",
    httpStatus: 409,
  },
  RESTORE_NOT_FOUND: { meaning: "There is no restore of that id.", httpStatus: 404 },
  DRILL_RUNNING: {
    meaning: "A restore drill of the backup instance is running; one runs at a time.",
    httpStatus: 409,
  },
  DRILL_NOT_FOUND: { meaning: "There is no restore drill of that id.", httpStatus: 404 },
  DRILLS_AT_CAPACITY: {
    meaning: "As many restore drills run as DRILL_MAX_CONCURRENT allows; the drill waits its turn.",
    httpStatus: 409,
  },
  DRILLS_QUERY_INVALID: {
    meaning: "A query parameter of GET /api/drills is not valid.",
    httpStatus: 400,
  },
  DRILL_NOT_SUPPORTED: {
    meaning: "The provider cannot run restore drills (it has no scratch target).",
    httpStatus: 501,
  },
  DRILL_FAILED: {
    meaning: "A restore drill did not prove the recovery point restorable.",
    httpStatus: 500,
  },
  DRILL_DATABASE_MISSING: {
    meaning:
      "A database an earlier restore drill of the server restored is not in the recovery point drilled now.",
    httpStatus: 500,
  },
  DRILL_ABANDONED: {
    meaning:
      "A restore drill recorded as running outlived the abandonment age (its orchestration was terminated or lost); it was ended as failed.",
    httpStatus: 500,
  },

  // ---- events and notifications -----------------------------------------------------------------
  EVENT_INVALID: { meaning: "An event breaks its schema.", httpStatus: 400 },
  ALERT_INVALID: {
    meaning: "An alert notification breaks Azure Monitor's common alert schema.",
    httpStatus: 400,
  },
  EVENT_TYPE_UNKNOWN: {
    meaning: "An event's type is not a pgprotect event type.",
    httpStatus: 400,
  },
  EVENT_SCHEMA_UNSUPPORTED: {
    meaning: "An event's schema version is not the one pgprotect reads.",
    httpStatus: 400,
  },
  EVENT_SOURCE_MISSING: { meaning: "An event has no source.", httpStatus: 400 },
  EVENT_TIME_INVALID: { meaning: "An event's time is not an RFC 3339 time.", httpStatus: 400 },
  EVENT_PUBLISH_FAILED: { meaning: "Publishing events to Event Grid failed.", httpStatus: 502 },
  NOTIFICATION_THROTTLED: {
    meaning: "A notification endpoint asked to slow down more times than the sender retries.",
    httpStatus: 429,
  },
  NOTIFICATION_ENDPOINT_UNAVAILABLE: {
    meaning: "A notification endpoint failed (5xx, network, timeout); later may work.",
    httpStatus: 502,
  },
  NOTIFICATION_REJECTED: {
    meaning: "A notification endpoint refused the message; trying again will not help.",
    httpStatus: 502,
  },
  NOTIFICATION_TLS_UNAVAILABLE: {
    meaning: "The SMTP relay offered no STARTTLS or refused it; nothing was sent.",
    httpStatus: 502,
  },
  NOTIFICATION_TLS_FAILED: {
    meaning: "The TLS handshake with the SMTP relay failed; nothing was sent.",
    httpStatus: 502,
  },
  NOTIFICATION_IN_PROGRESS: {
    meaning: "Another delivery of the same event to the same channel is in progress.",
    httpStatus: 409,
  },
  NOTIFICATION_PARTIAL_FAILURE: {
    meaning: "Some channels failed; the others were delivered and will not be repeated.",
    httpStatus: 502,
  },
  NOTIFICATION_STATE_UNAVAILABLE: {
    meaning: "The notification state store cannot be reached.",
    httpStatus: 503,
  },

  // ---- vault security posture (warnings of GET /api/vaults, not failures) ----------------------
  VAULT_NOT_GEO_REDUNDANT: {
    meaning: "The vault keeps its backups in one region (or on one disk): losing it loses them.",
  },
  VAULT_CROSS_REGION_RESTORE_DISABLED: {
    meaning:
      "A geo-redundant vault cannot restore in its paired region (cross-region restore off).",
  },
  VAULT_SOFT_DELETE_OFF: {
    meaning: "The vault's soft delete is off: deleted backups are gone at once.",
  },
  VAULT_SOFT_DELETE_RETENTION_SHORT: {
    meaning: "The vault keeps soft-deleted backups for fewer days than the baseline.",
  },
  VAULT_IMMUTABILITY_DISABLED: {
    meaning: "The vault does not keep recovery points immutable until they expire.",
  },
  VAULT_CROSS_SUBSCRIPTION_RESTORE_ENABLED: {
    meaning: "The vault lets its backups be restored into other subscriptions.",
  },
  VAULT_RESOURCE_GUARD_MISSING: {
    meaning:
      "No resource guard (multi-user authorization) protects the vault's critical operations.",
  },
  VAULT_JOB_FAILURE_ALERTS_DISABLED: {
    meaning: "The vault's built-in Azure Monitor alerts for job failures are off.",
  },
  VAULT_SETTING_UNKNOWN: {
    meaning: "The vault's answer does not state a security setting; it is reported as unknown.",
  },

  // ---- the local provider and host ------------------------------------------------------------
  PROVIDER_UNAVAILABLE: {
    meaning: "The backup provider is not ready (still starting).",
    httpStatus: 503,
  },
  LOCAL_PROVIDER_STOPPING: {
    meaning: "The local provider is stopping; no new job starts.",
    httpStatus: 503,
  },
  LOCAL_POSTGRES_UNAVAILABLE: {
    meaning: "The local provider's private PostgreSQL is not available.",
    httpStatus: 503,
  },
  LOCAL_POSTGRES_NOT_INSTALLED: {
    meaning: "PostgreSQL server binaries were not found.",
    httpStatus: 500,
  },
  LOCAL_POSTGRES_NOT_RUNNING: {
    meaning: "No private PostgreSQL is running under the state folder.",
    httpStatus: 503,
  },
  LOCAL_POSTGRES_START_FAILED: {
    meaning: "The private PostgreSQL did not start.",
    httpStatus: 500,
  },
  LOCAL_POSTGRES_PORT_TAKEN: {
    meaning: "The private PostgreSQL's port is taken by another program.",
    httpStatus: 503,
  },
  LOCAL_POSTGRES_IN_USE: {
    meaning: "The private PostgreSQL belongs to another running process.",
    httpStatus: 503,
  },
  LOCAL_POSTGRES_FOLDER_UNREACHABLE: {
    meaning: "The PostgreSQL server user cannot reach the state folder.",
    httpStatus: 500,
  },
  LOCAL_RECOVERY_POINT_EMPTY: {
    meaning: "A local recovery point holds no dump file.",
    httpStatus: 500,
  },
  LOCAL_SCHEDULE_OCCURRENCE_UNKNOWN: {
    meaning: "An instant is not an occurrence of the policy's schedule.",
    httpStatus: 500,
  },
  LOCAL_SECRET_FILE_EXPOSED: {
    meaning: "The local secret file is readable by other users.",
    httpStatus: 500,
  },
  LOCAL_TOOL_FAILED: { meaning: "A PostgreSQL tool (pg_dump, psql, ...) failed.", httpStatus: 500 },
  DEMO_NAME_INVALID: { meaning: "A demo database name is not a simple name.", httpStatus: 400 },

  // ---- the command line -----------------------------------------------------------------------
  CLI_USAGE: { meaning: "A command line is not valid (exit status 2)." },
  CLI_FILE_NOT_FOUND: { meaning: "A file named on the command line does not exist." },
  CLI_JSON_INVALID: { meaning: "A file named on the command line is not valid JSON." },

  // ---- anything else --------------------------------------------------------------------------
  INTERNAL: { meaning: "An unexpected error; its details are in the logs.", httpStatus: 500 },
} as const satisfies Readonly<Record<string, ErrorCodeEntry>>;

/** A code of the catalogue: a literal outside it does not compile. */
export type ErrorCode = keyof typeof errorCatalogue;

/** Every code of the catalogue, as constants (`ErrorCodes.POLICY_NOT_FOUND`). */
export const ErrorCodes = Object.freeze(
  Object.fromEntries(Object.keys(errorCatalogue).map((code) => [code, code])),
) as { readonly [C in ErrorCode]: C };

/** Whether a string is a code of the catalogue. */
export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(errorCatalogue, value);
}

/** The catalogue's entry of a code. */
export function errorCodeEntry(code: ErrorCode): ErrorCodeEntry {
  return errorCatalogue[code];
}

const byServiceCode: ReadonlyMap<string, ErrorCode> = new Map(
  (Object.entries(errorCatalogue) as [ErrorCode, ErrorCodeEntry][]).flatMap(([code, entry]) =>
    [entry.serviceCode, ...(entry.otherServiceCodes ?? [])]
      .filter((service): service is string => service !== undefined)
      .map((service) => [service, code] as const),
  ),
);

/**
 * Codes pgprotect stated before the catalogue, and the code each became (a changed API: the
 * closing note lists them). Only {@link normalizeCode} reads it, for codes written before the
 * catalogue (local job records on disk, older orchestration histories).
 */
export const renamedCodes: Readonly<Record<string, ErrorCode>> = {
  ProtectionTimedOut: "PROTECTION_TIMED_OUT",
  ConfiguringProtectionFailed: "CONFIGURING_PROTECTION_FAILED",
  InvalidServiceResponse: "INVALID_SERVICE_RESPONSE",
  BackupInstanceNameInUse: "BACKUP_INSTANCE_NAME_IN_USE",
  ResourceManagerUnreachable: "RESOURCE_MANAGER_UNREACHABLE",
  RequestOutcomeUnknown: "REQUEST_OUTCOME_UNKNOWN",
  OperationStillRunning: "OPERATION_STILL_RUNNING",
  RecoveryPointCorrupt: "RECOVERY_POINT_CORRUPT",
  PolicyNotFound: "POLICY_NOT_FOUND",
  VaultNotFound: "VAULT_NOT_FOUND",
  DatasourceNotFound: "DATASOURCE_NOT_FOUND",
  PolicyDatasourceTypeMismatch: "POLICY_DATASOURCE_TYPE_MISMATCH",
  VaultIdentityMissing: "VAULT_IDENTITY_MISSING",
  SecretEmpty: "SECRET_EMPTY",
  KeyVaultError: "KEY_VAULT_REQUEST_FAILED",
  UserErrorBackupLimitPerWeekReached: "BACKUP_LIMIT_PER_WEEK_REACHED",
  UserErrorEmptySecret: "SECRET_EMPTY",
  UserErrorInvalidSecretUri: "INVALID_SECRET_URI",
  UserErrorInvalidConnectionString: "CONNECTION_STRING_INVALID",
};

/**
 * pgprotect's code for a code the service (Azure Backup, Resource Manager, Key Vault) answered:
 * the catalogue's code for that fact, or `AZURE_REQUEST_FAILED` for one it does not know.
 */
export function codeForServiceCode(serviceCode: string): ErrorCode {
  return byServiceCode.get(serviceCode) ?? "AZURE_REQUEST_FAILED";
}

/** The service's code a code of the catalogue stands for (which the local provider mirrors), if any. */
export function serviceCodeOf(code: ErrorCode): string | undefined {
  const entry: ErrorCodeEntry = errorCatalogue[code];
  return entry.serviceCode;
}

/** A code of the catalogue, with the service's code where the given one was the service's. */
export interface NormalizedCode {
  readonly code: ErrorCode;
  readonly serviceCode?: string;
}

/**
 * Reads a code that comes from outside the program into the catalogue: catalogue codes stay,
 * former names become their new code, service codes become pgprotect's code with the service's
 * kept beside it.
 *
 * @remarks Only for codes pgprotect did not state itself: the service's answers, and records
 * written before the catalogue (local job records on disk, older orchestration histories).
 * Codes stated in the source are {@link ErrorCode}s and need no reading.
 */
export function normalizeCode(value: string): NormalizedCode {
  if (isErrorCode(value)) return { code: value };
  const renamed = renamedCodes[value];
  if (renamed !== undefined) return { code: renamed };
  return { code: codeForServiceCode(value), serviceCode: value };
}
