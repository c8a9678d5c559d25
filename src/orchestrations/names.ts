/** Orchestration names, as registered. */
export const orchestrationNames = {
  protectDatasource: "protectDatasource",
  protectServer: "protectServer",
  adhocBackup: "adhocBackup",
  jobWatcher: "jobWatcher",
  protectionLifecycle: "protectionLifecycle",
  restoreDrill: "restoreDrill",
  restoreToServer: "restoreToServer",
} as const;
