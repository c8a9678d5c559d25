import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../../src/config.js";
import { ConfigurationError } from "../../../../src/domain/errors.js";

describe("local backup settings", () => {
  it("reads the parallel jobs and the compression level as numbers, and leaves them to the machine and pg_dump when empty", () => {
    // Act
    const set = loadConfig({ LOCAL_BACKUP_PARALLEL_JOBS: "4", LOCAL_BACKUP_COMPRESSION: "0" });
    const empty = loadConfig({ LOCAL_BACKUP_PARALLEL_JOBS: "", LOCAL_BACKUP_COMPRESSION: "" });

    // Assert
    expect(set.LOCAL_BACKUP_PARALLEL_JOBS).toBe(4);
    expect(set.LOCAL_BACKUP_COMPRESSION).toBe(0);
    expect(empty.LOCAL_BACKUP_PARALLEL_JOBS).toBeUndefined();
    expect(empty.LOCAL_BACKUP_COMPRESSION).toBeUndefined();
  });

  it.each([
    ["LOCAL_BACKUP_PARALLEL_JOBS", "0"],
    ["LOCAL_BACKUP_PARALLEL_JOBS", "65"],
    ["LOCAL_BACKUP_PARALLEL_JOBS", "two"],
    ["LOCAL_BACKUP_COMPRESSION", "10"],
    ["LOCAL_BACKUP_COMPRESSION", "-1"],
    ["LOCAL_BACKUP_COMPRESSION", "fast"],
  ])("refuses %s=%s, naming the setting", (name, value) => {
    // Act
    const act = () => loadConfig({ [name]: value });

    // Assert
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(new RegExp(name));
  });
});
