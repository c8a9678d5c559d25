import { describe, expect, it } from "vitest";
import {
  compareStructure,
  STRUCTURE_FORMAT,
} from "../../../../src/providers/local/databaseStructure.js";
import type { RecordedStructure } from "../../../../src/domain/protection/types.js";

const structure = (objects: Record<string, string>): RecordedStructure => ({
  format: STRUCTURE_FORMAT,
  objects,
  owners: [],
  grantees: [],
});

describe("comparing a restored structure with the recorded one", () => {
  it("finds nothing when every object has the same description", () => {
    const recorded = structure({
      "table public.t": "",
      "index public.t_pkey": "CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id)",
    });

    expect(compareStructure(recorded, structure({ ...recorded.objects }))).toEqual([]);
  });

  it("names missing, unexpected and changed objects in key order, clipping long descriptions", () => {
    // Arrange
    const long = `CREATE INDEX big ON public.t USING btree (${"a, ".repeat(60)}z)`;
    const recorded = structure({
      "index public.big": long,
      "index public.t_pkey": "CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id)",
      "column public.t.n": "integer not null",
    });
    const restored = structure({
      "index public.big": long.replace("z)", "y)"),
      "column public.t.n": "integer",
      "trigger public.t.audit":
        "CREATE TRIGGER audit AFTER INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.audit()",
    });

    // Act
    const differences = compareStructure(recorded, restored);

    // Assert
    expect(differences).toHaveLength(4);
    expect(differences[0]).toBe(
      "column public.t.n: differs (backup: integer not null; restored: integer)",
    );
    expect(differences[1]).toMatch(
      /^index public\.big: differs \(backup: CREATE INDEX big .{90,}\.\.\.; restored: CREATE INDEX big .{90,}\.\.\.\)$/,
    );
    expect(differences[2]).toBe("index public.t_pkey: missing in the restored database");
    expect(differences[3]).toBe(
      "trigger public.t.audit: in the restored database but not in the backup",
    );
  });
});
