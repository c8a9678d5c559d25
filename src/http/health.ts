/**
 * The app's health, as `/api/health` reports it: which provider is configured, and whether it can
 * serve. Locally that means the local provider started and its PostgreSQL answers `SELECT 1`; in
 * Azure it means the settings are valid and the provider was built. No Azure call is made per
 * probe: a probe runs every few seconds, and Resource Manager's read quota is better spent on work.
 */
import { appDependencies } from "../composition.js";
import { appConfig } from "../config.js";
import { AppError, isAppError } from "../domain/errors.js";

/** How long the provider may take to come up before a probe says it is still starting. */
export const PROVIDER_START_WAIT_MS = 5_000;

/** Code of a provider that failed to start or did not start in time. */
export const PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE";

/** What a health probe found. */
export interface HealthReport {
  /** `local` or `azure`; `unknown` when the settings do not parse. */
  readonly provider: string;
  /** Why the app cannot serve (always a 503), absent when it can. */
  readonly problem?: AppError;
}

/** The same failure as a 503: whatever failed, the app is unavailable, not wrong. */
function unavailable(error: unknown, provider: string): AppError {
  const message = error instanceof Error ? error.message : String(error);
  return new AppError(
    isAppError(error) ? error.code : PROVIDER_UNAVAILABLE,
    `The ${provider} provider is unavailable: ${message}`,
    {
      httpStatus: 503,
      retryable: true,
      cause: error,
      ...(isAppError(error) && error.recommendedAction
        ? { recommendedAction: error.recommendedAction }
        : {}),
    },
  );
}

function configuredProvider(): string {
  try {
    return appConfig().PGPROTECT_PROVIDER;
  } catch {
    return "unknown";
  }
}

/** Checks the configured provider: started, and its own parts up. */
export async function checkAppHealth(): Promise<HealthReport> {
  let provider = "unknown";
  try {
    let timer: NodeJS.Timeout | undefined;
    const starting = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new AppError(PROVIDER_UNAVAILABLE, "it is still starting", { httpStatus: 503 })),
        PROVIDER_START_WAIT_MS,
      );
    });
    try {
      const deps = await Promise.race([appDependencies(), starting]);
      provider = deps.config.PGPROTECT_PROVIDER;
      await deps.provider.health?.check();
    } finally {
      clearTimeout(timer);
    }
    return { provider };
  } catch (error) {
    if (provider === "unknown") provider = configuredProvider();
    return { provider, problem: unavailable(error, provider) };
  }
}
