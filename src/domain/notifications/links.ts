/**
 * The link a notification offers: the job (or the protected resource) in the portal, or in
 * whatever console the deployment names with a URL template.
 */
import type { NotificationView } from "./view.js";

/** URL templates from the notification settings. */
export interface LinkTemplates {
  readonly jobUrlTemplate: string;
  readonly resourceUrlTemplate: string;
}

/**
 * The link for a view, or `undefined` when the template names a placeholder the event lacks or
 * the result is not an http(s) URL (a card with a broken button is worse than none).
 *
 * @remarks Values are percent-encoded, except `/` so ARM ids stay readable paths.
 */
export function linkFor(view: NotificationView, templates: LinkTemplates): string | undefined {
  const values: Record<string, string | undefined> = {
    jobId: view.job?.id,
    jobName: view.job?.name,
    vaultName: view.vaultName,
    datasourceId: view.datasourceId,
    backupInstanceId: view.backupInstanceId,
    resourceId: view.backupInstanceId ?? view.datasourceId,
    eventId: view.eventId,
  };
  const template = view.job ? templates.jobUrlTemplate : templates.resourceUrlTemplate;
  let missing = false;
  const url = template.replace(/\{([A-Za-z]+)\}/g, (placeholder, key: string) => {
    const value = values[key];
    if (value === undefined) {
      missing = true;
      return placeholder;
    }
    return encodeURIComponent(value).replaceAll("%2F", "/");
  });
  if (missing || !/^https?:\/\//i.test(url) || !URL.canParse(url)) return undefined;
  return url;
}
