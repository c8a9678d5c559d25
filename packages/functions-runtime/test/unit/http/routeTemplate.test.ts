import { describe, expect, test } from "vitest";
import {
  compareRoutePrecedence,
  parseRouteTemplate,
  RouteTemplateError,
} from "../../../src/http/routeTemplate.js";

describe("route templates", () => {
  test("a plain parameter captures one segment, decoded", () => {
    const template = parseRouteTemplate("servers/{server}/databases/{database}");

    expect(template.match("servers/pg%201/databases/app")).toEqual({
      server: "pg 1",
      database: "app",
    });
    expect(template.match("servers/pg1/databases")).toBeUndefined();
    expect(template.match("servers/pg1/databases/app/extra")).toBeUndefined();
  });

  test("literal text matches case-insensitively and a trailing slash is allowed", () => {
    const template = parseRouteTemplate("Backup-Instances/{name}");

    expect(template.match("backup-instances/x/")).toEqual({ name: "x" });
  });

  test("an optional parameter may be left out", () => {
    const template = parseRouteTemplate("jobs/{id?}");

    expect(template.match("jobs")).toEqual({});
    expect(template.match("jobs/42")).toEqual({ id: "42" });
  });

  test("constraints filter values", () => {
    const template = parseRouteTemplate("items/{id:int}/{flag:bool}/{code:alpha:minlength(2)}");

    expect(template.match("items/12/true/ab")).toEqual({ id: "12", flag: "true", code: "ab" });
    expect(template.match("items/x/true/ab")).toBeUndefined();
    expect(template.match("items/1/maybe/ab")).toBeUndefined();
    expect(template.match("items/1/true/a")).toBeUndefined();
    expect(
      parseRouteTemplate("g/{id:guid}").match("g/3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
    ).toBeDefined();
    expect(parseRouteTemplate("g/{id:guid}").match("g/nope")).toBeUndefined();
  });

  test("a catch-all takes the rest of the path, slashes included, or nothing", () => {
    const template = parseRouteTemplate("files/{*path}");

    expect(template.match("files/a/b/c.txt")).toEqual({ path: "a/b/c.txt" });
    expect(template.match("files")).toEqual({});
  });

  test("a segment may mix text and parameters", () => {
    expect(parseRouteTemplate("download/{name}.{ext}").match("download/report.tar.gz")).toEqual({
      name: "report",
      ext: "tar.gz",
    });
  });

  test("literal segments take precedence over parameters, and catch-alls come last", () => {
    const templates = ["items/{*rest}", "items/{id}", "items/special", "items/{id:int}"].map(
      parseRouteTemplate,
    );

    const ordered = [...templates]
      .sort(compareRoutePrecedence)
      .map((template) => template.template);

    expect(ordered).toEqual(["items/special", "items/{id:int}", "items/{id}", "items/{*rest}"]);
  });

  test.each([
    ["files/{*path}/more", /catch-all parameter must be the last segment/],
    ["a/{id}/{id}", /appears twice/],
    ["a/{unclosed", /unbalanced/],
    ["a/{}", /does not name a parameter/],
  ])("rejects %s", (template, message) => {
    expect(() => parseRouteTemplate(template)).toThrow(RouteTemplateError);
    expect(() => parseRouteTemplate(template)).toThrow(message);
  });
});
