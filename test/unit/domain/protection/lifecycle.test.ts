import { describe, expect, it } from "vitest";
import {
  assertUndeletable,
  decideLifecycleAction,
  lifecycleStateOf,
  lifecycleTargetState,
  resumeOperationFor,
  type DeletedBackupInstance,
} from "../../../../src/domain/protection/lifecycle.js";
import { rejection } from "../../../support/appError.js";

describe("the protection lifecycle's state rules", () => {
  it("applies an action from a state the service allows it in, and answers one already done as such", () => {
    expect(decideLifecycleAction("suspend", "ProtectionConfigured", "bi")).toBe("apply");
    expect(decideLifecycleAction("suspend", "BackupSchedulesSuspended", "bi")).toBe("alreadyDone");
    expect(decideLifecycleAction("stop", "BackupSchedulesSuspended", "bi")).toBe("apply");
    expect(decideLifecycleAction("resume", "ProtectionConfigured", "bi")).toBe("alreadyDone");
    expect(decideLifecycleAction("delete", "SoftDeleted", "bi")).toBe("alreadyDone");
  });

  it("refuses to suspend anything but a configured instance, naming the state it is in and the one it needs", async () => {
    const error = await rejection(
      (async () => decideLifecycleAction("suspend", "ProtectionStopped", "bi-1"))(),
    );

    expect(error).toMatchObject({ code: "PROTECTION_STATE_CONFLICT", httpStatus: 409 });
    expect(error.message).toMatch(/bi-1.*ProtectionStopped.*ProtectionConfigured/);
  });

  it("tells a suspended schedule from stopped protection by the service's current state, and resumes each its own way", () => {
    const suspended = {
      protectionStatus: "ProtectionStopped" as const,
      currentProtectionState: "BackupSchedulesSuspended",
    };

    expect(lifecycleStateOf(suspended)).toBe("BackupSchedulesSuspended");
    expect(lifecycleStateOf({ protectionStatus: "ProtectionStopped" })).toBe("ProtectionStopped");
    expect(resumeOperationFor("BackupSchedulesSuspended")).toBe("resumeBackups");
    expect(resumeOperationFor("ProtectionStopped")).toBe("resumeProtection");
    expect(lifecycleTargetState("undelete", "SoftDeleted")).toBe("ProtectionStopped");
  });

  it("undeletes only before the scheduled purge", async () => {
    const deleted = {
      name: "bi-2",
      deletionInfo: {
        deletionTime: "2026-11-01T00:00:00Z",
        scheduledPurgeTime: "2026-11-15T00:00:00Z",
      },
    } as DeletedBackupInstance;

    expect(() => assertUndeletable(deleted, new Date("2026-11-14T23:59:00Z"))).not.toThrow();
    const error = await rejection(
      (async () => assertUndeletable(deleted, new Date("2026-11-15T00:00:00Z")))(),
    );

    expect(error).toMatchObject({ code: "UNDELETE_RETENTION_EXPIRED", httpStatus: 409 });
  });
});
