import { describe, expect, it } from "vitest";
import {
  libpqEnvironment,
  parseConnectionString,
} from "../../../../src/domain/protection/connectionString.js";

describe("PostgreSQL connection strings in secrets", () => {
  it("parses a URL with encoded credentials, port, database and options", () => {
    const params = parseConnectionString(
      "postgresql://app%40corp:p%C3%A4ss%2Fw@db.example.com:6432/sales%20db?sslmode=require&application_name=pgprotect",
    );

    expect(params).toEqual({
      host: "db.example.com",
      port: 6432,
      user: "app@corp",
      password: "päss/w",
      database: "sales db",
      options: { sslmode: "require", application_name: "pgprotect" },
    });
  });

  it("parses libpq key=value pairs with quoted values and escapes", () => {
    const params = parseConnectionString(
      `host=127.0.0.1 port = 5432 dbname=shop user=backup password='it\\'s a secret' sslmode=disable`,
    );

    expect(params).toEqual({
      host: "127.0.0.1",
      port: 5432,
      user: "backup",
      password: "it's a secret",
      database: "shop",
      options: { sslmode: "disable" },
    });
  });

  it("turns parameters into the libpq environment, overriding the database", () => {
    const env = libpqEnvironment(
      parseConnectionString("postgres://u:pw@h:1/db?sslmode=verify-full"),
      "other",
    );

    expect(env).toEqual({
      PGHOST: "h",
      PGPORT: "1",
      PGUSER: "u",
      PGPASSWORD: "pw",
      PGDATABASE: "other",
      PGSSLMODE: "verify-full",
    });
  });

  it.each([
    ["", "it is empty"],
    ["just some words", "expected key=value pairs"],
    ["https://example.com/db", "only postgres:// and postgresql:// URLs"],
    ["dbname=x user=y", "names no host"],
    ["host=h port=99999", "port must be a number"],
    ["host=h password='unterminated", "is not closed"],
  ])("rejects %j with UserErrorInvalidConnectionString (%s)", (text, reason) => {
    expect(() => parseConnectionString(text)).toThrow(
      expect.objectContaining({
        code: "CONNECTION_STRING_INVALID",
        message: expect.stringContaining(reason),
      }),
    );
  });

  it("never quotes the secret back in its error", () => {
    let message = "";
    try {
      parseConnectionString("host=h port=notaport password=hunter2");
    } catch (error) {
      message = (error as Error).message;
    }

    expect(message).toContain("port");
    expect(message).not.toContain("hunter2");
  });
});
