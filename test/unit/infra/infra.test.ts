/**
 * Checks on infra/, azure.yaml and the post-deploy scripts that need no Bicep compiler: files that
 * refer to each other agree, app settings match what the app reads, and role ids carry their names.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { configKeys, loadConfig } from "../../../src/config.js";
import { parseNotificationSettings } from "../../../src/domain/notifications/rules.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const infraDir = join(repoRoot, "infra");

/** Settings the Functions host and the Azure SDK read, which the app's schema does not. */
const hostSettingPatterns: readonly RegExp[] = [
  /^AzureWebJobsStorage__(credential|clientId|blobServiceUri|queueServiceUri|tableServiceUri)$/,
  /^APPLICATIONINSIGHTS_(CONNECTION_STRING|AUTHENTICATION_STRING)$/,
  // @azure/identity picks the user-assigned managed identity by this client id.
  /^AZURE_CLIENT_ID$/,
];

/**
 * App settings the Flex Consumption plan rejects or ignores: the runtime and its version live in
 * functionAppConfig, and deployment goes through the deployment storage container.
 */
const flexConsumptionRejectedSettings: readonly string[] = [
  "FUNCTIONS_WORKER_RUNTIME",
  "FUNCTIONS_EXTENSION_VERSION",
  "FUNCTIONS_WORKER_RUNTIME_VERSION",
  "WEBSITE_NODE_DEFAULT_VERSION",
  "WEBSITE_RUN_FROM_PACKAGE",
  "WEBSITE_CONTENTSHARE",
  "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
  "SCM_DO_BUILD_DURING_DEPLOYMENT",
  "ENABLE_ORYX_BUILD",
];

/** Azure built-in role definition ids and their names, as Azure publishes them. */
const builtInRoleNames: Readonly<Record<string, string>> = {
  "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
  "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
  "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
  "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
  "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
  "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
  "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer",
  "d5a91429-5739-47e2-a06b-3470a27159e7": "EventGrid Data Sender",
  "09976791-48a7-449e-bb21-39d1a415f350": "Communication and Email Service Owner",
  "5e467623-bb1f-42f4-a55d-6e525e11384b": "Backup Contributor",
  "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
  "c088a766-074b-43ba-90d4-1fb21feae531":
    "PostgreSQL Flexible Server Long Term Retention Backup Role",
  "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
  "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
};

/** Microsoft's own applications the templates name by appId, and their names. */
const wellKnownApplicationNames: Readonly<Record<string, string>> = {
  // Azure Monitor action groups' secure webhooks (Azure Monitor's documentation, "secure webhook").
  "461e8683-5575-4561-ac7f-899cc907d62a": "AzNS AAD Webhook",
};

/** Environment variables azd provides itself, beside the template's outputs. */
const azdEnvironmentVariables: readonly string[] = [
  "AZURE_ENV_NAME",
  "AZURE_LOCATION",
  "AZURE_SUBSCRIPTION_ID",
];

const guidPattern = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

function readRepoFile(path: string): string {
  return readFileSync(join(repoRoot, path), "utf8");
}

function bicepFiles(dir: string = infraDir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return bicepFiles(path);
    return entry.name.endsWith(".bicep") ? [path] : [];
  });
}

/**
 * Blanks out comments and the contents of string literals, keeping every offset and line break,
 * so that braces and colons inside them do not count.
 */
function maskBicep(source: string): string {
  let out = "";
  let i = 0;
  const blank = (text: string) => text.replace(/[^\n]/g, " ");
  while (i < source.length) {
    if (source.startsWith("//", i)) {
      const end = source.indexOf("\n", i);
      const stop = end === -1 ? source.length : end;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (source.startsWith("/*", i)) {
      const end = source.indexOf("*/", i + 2);
      const stop = end === -1 ? source.length : end + 2;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (source.startsWith("'''", i)) {
      const end = source.indexOf("'''", i + 3);
      const stop = end === -1 ? source.length : end + 3;
      out += "'" + blank(source.slice(i + 1, stop - 1)) + "'";
      i = stop;
    } else if (source[i] === "'") {
      let j = i + 1;
      while (j < source.length && source[j] !== "'") j += source[j] === "\\" ? 2 : 1;
      out += "'" + blank(source.slice(i + 1, j)) + "'";
      i = j + 1;
    } else {
      out += source[i];
      i += 1;
    }
  }
  return out;
}

/** The expression assigned to `var name`, from a masked source: up to the first line end at depth 0. */
function varExpression(masked: string, name: string): string {
  const match = new RegExp(`^var\\s+${name}\\s*=`, "m").exec(masked);
  if (!match) throw new Error(`no var ${name}`);
  let depth = 0;
  let seenCode = false;
  let i = match.index + match[0].length;
  const start = i;
  for (; i < masked.length; i += 1) {
    const ch = masked[i] as string;
    if ("({[".includes(ch)) depth += 1;
    else if (")}]".includes(ch)) depth -= 1;
    else if (ch === "\n" && depth === 0 && seenCode) break;
    if (ch.trim() !== "") seenCode = true;
  }
  return masked.slice(start, i);
}

/** Keys of the object literals at the outermost brace level of an expression. */
function outerObjectKeys(expression: string): string[] {
  const keys: string[] = [];
  const depthAt: number[] = [];
  let depth = 0;
  for (const ch of expression) {
    if (ch === "{") depth += 1;
    depthAt.push(depth);
    if (ch === "}") depth -= 1;
  }
  for (const match of expression.matchAll(/(^|[\n{,])[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*:/g)) {
    const keyOffset = (match.index ?? 0) + match[0].indexOf(match[2] as string);
    if (depthAt[keyOffset] === 1) keys.push(match[2] as string);
  }
  return keys;
}

/** Every app setting key the Bicep sets on the function app: the keys of the `*AppSettings` vars. */
function appSettingKeys(): string[] {
  return ["infra/main.bicep", "infra/app/api.bicep"].flatMap((path) => {
    const masked = maskBicep(readRepoFile(path));
    const names = [...masked.matchAll(/^var\s+(\w+AppSettings)\s*=/gm)].map((m) => m[1] as string);
    return names.flatMap((name) => outerObjectKeys(varExpression(masked, name)));
  });
}

function declaredParams(bicepPath: string): string[] {
  const masked = maskBicep(readRepoFile(bicepPath));
  return [...masked.matchAll(/^param\s+(\w+)\s/gm)].map((m) => m[1] as string);
}

function declaredOutputs(bicepPath: string): string[] {
  const masked = maskBicep(readRepoFile(bicepPath));
  return [...masked.matchAll(/^output\s+(\w+)\s/gm)].map((m) => m[1] as string);
}

describe("infra/main.parameters.json", () => {
  it("is valid JSON and sets only parameters that main.bicep declares", () => {
    // Arrange
    const parameters = JSON.parse(readRepoFile("infra/main.parameters.json")) as {
      parameters: Record<string, { value: unknown }>;
    };
    const declared = declaredParams("infra/main.bicep");

    // Act
    const undeclared = Object.keys(parameters.parameters).filter(
      (name) => !declared.includes(name),
    );

    // Assert
    expect(declared).toContain("environmentName");
    expect(undeclared).toEqual([]);
  });

  it("gives every main.bicep parameter without a default a value", () => {
    // Arrange
    const masked = maskBicep(readRepoFile("infra/main.bicep"));
    const required = [...masked.matchAll(/^param\s+(\w+)\s+\w+\s*$/gm)].map((m) => m[1] as string);
    const parameters = JSON.parse(readRepoFile("infra/main.parameters.json")) as {
      parameters: Record<string, unknown>;
    };

    // Act
    const missing = required.filter((name) => !(name in parameters.parameters));

    // Assert
    expect(missing).toEqual([]);
  });
});

describe("the Bicep modules", () => {
  it("refer only to local files that exist and to AVM registry modules pinned to a version", () => {
    // Arrange
    const references = bicepFiles().flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/^module\s+\w+\s+'([^']+)'/gm)].map((m) => ({
        file,
        path: m[1] as string,
      })),
    );

    // Act
    const broken = references
      .filter(({ path }) => !path.startsWith("br/") && !path.startsWith("br:"))
      .filter(({ file, path }) => !existsSync(join(dirname(file), path)))
      .map(({ file, path }) => `${relative(repoRoot, file)} -> ${path}`);
    const unpinned = references
      .filter(({ path }) => path.startsWith("br/"))
      .filter(({ path }) => !/^br\/public:avm\/[a-z0-9/-]+:\d+\.\d+\.\d+$/.test(path))
      .map(({ path }) => path);

    // Assert
    expect(references.length).toBeGreaterThan(0);
    expect(broken).toEqual([]);
    expect(unpinned).toEqual([]);
  });

  it("name resources only with abbreviations that abbreviations.json defines", () => {
    // Arrange
    const abbreviations = JSON.parse(readRepoFile("infra/abbreviations.json")) as Record<
      string,
      string
    >;
    const used = [...readRepoFile("infra/main.bicep").matchAll(/abbrs\.(\w+)/g)].map(
      (m) => m[1] as string,
    );

    // Act
    const unknown = used.filter((name) => !(name in abbreviations));

    // Assert
    expect(used.length).toBeGreaterThan(0);
    expect(unknown).toEqual([]);
  });

  it("output UPPER_SNAKE names from main.bicep, so azd lifts them into the environment", () => {
    // Arrange
    const outputs = declaredOutputs("infra/main.bicep");

    // Act
    const misnamed = outputs.filter((name) => !/^[A-Z][A-Z0-9_]*$/.test(name));

    // Assert
    expect(outputs).toContain("AZURE_FUNCTION_APP_NAME");
    expect(misnamed).toEqual([]);
  });
});

describe("the function app's settings", () => {
  it("are all read by the app (local.settings.sample.json), the host, or awaiting the schema", () => {
    // Arrange
    const sample = JSON.parse(readRepoFile("local.settings.sample.json")) as {
      Values: Record<string, string>;
    };
    const appKeys = Object.keys(sample.Values);

    // Act
    const keys = appSettingKeys();
    const unexplained = keys.filter(
      (key) => !appKeys.includes(key) && !hostSettingPatterns.some((pattern) => pattern.test(key)),
    );

    // Assert
    expect(keys.length).toBeGreaterThan(5);
    expect(unexplained).toEqual([]);
  });

  it("select the Azure provider and give it what the schema requires for it", () => {
    // Arrange
    const source = readRepoFile("infra/main.bicep");

    // Act
    const keys = appSettingKeys();

    // Assert
    expect(source).toMatch(/^\s*PGPROTECT_PROVIDER:\s*'azure'\s*$/m);
    expect(keys).toEqual(
      expect.arrayContaining([
        "TASKHUB_NAME",
        "AZURE_SUBSCRIPTION_ID",
        "AZURE_RESOURCE_MANAGER_ENDPOINT",
        "AZURE_TOKEN_AUDIENCE",
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__queueServiceUri",
        "AzureWebJobsStorage__tableServiceUri",
      ]),
    );
  });

  it("include none that the Flex Consumption plan rejects", () => {
    // Arrange
    const keys = appSettingKeys();

    // Act
    const rejected = keys.filter((key) => flexConsumptionRejectedSettings.includes(key));

    // Assert
    expect(rejected).toEqual([]);
  });

  it("carry notification settings that the app's own parser accepts", () => {
    // Arrange
    const text = readRepoFile("infra/notifications.json");

    // Act
    const settings = parseNotificationSettings(text);

    // Assert
    expect(settings.channels).toBeInstanceOf(Array);
  });
});

describe("the role assignments", () => {
  it("name every role GUID in a var whose comment is the built-in role's name", () => {
    // Arrange
    const roleVars = bicepFiles().flatMap((file) =>
      [
        ...readFileSync(file, "utf8").matchAll(
          /^var\s+(\w+)\s*=\s*'([0-9a-f-]{36})'[ \t]*(?:\/\/[ \t]*(.*))?$/gm,
        ),
      ].map((m) => ({ name: m[1] as string, id: m[2] as string, comment: (m[3] ?? "").trim() })),
    );

    // Act
    const wrong = roleVars
      .filter(({ id, comment }) => {
        const known = builtInRoleNames[id] ?? wellKnownApplicationNames[id];
        return known === undefined || comment !== known;
      })
      .map(({ name, id, comment }) => `${name} = ${id} // ${comment}`);

    // Assert
    expect(roleVars.length).toBeGreaterThan(5);
    expect(wrong).toEqual([]);
  });

  it("write GUID literals nowhere but in those named vars", () => {
    // Arrange
    const roleVarLine = /^var\s+\w+\s*=\s*'[0-9a-f-]{36}'[ \t]*\/\/.+$/;

    // Act
    const stray = bicepFiles().flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => guidPattern.test(line) && !roleVarLine.test(line))
        .map((line) => `${relative(repoRoot, file)}: ${line.trim()}`),
    );

    // Assert
    expect(stray).toEqual([]);
  });

  it("are each named guid(scope id, principal id, role id)", () => {
    // Arrange
    const blocks = bicepFiles().flatMap((file) => {
      const source = readFileSync(file, "utf8");
      return [
        ...source.matchAll(
          /^resource\s+(\w+)\s+'Microsoft\.Authorization\/roleAssignments@[^']+'/gm,
        ),
      ].map((m) => ({ file, name: m[1] as string, body: source.slice(m.index ?? 0) }));
    });

    // Act
    const misnamed = blocks
      .filter(
        ({ body }) =>
          !/^\s*name:\s*guid\([^,()]+(\([^()]*\))?[^,()]*,[^,()]+,[^,()]+\)\s*$/m.test(
            body.split(/\n\s*properties:/)[0] ?? "",
          ),
      )
      .map(({ file, name }) => `${relative(repoRoot, file)}: ${name}`);

    // Assert
    expect(blocks.length).toBeGreaterThan(5);
    expect(misnamed).toEqual([]);
  });
});

describe("the host storage account's tables", () => {
  /** The module block `module <name> '<path>' = {...}` of main.bicep, masked. */
  function moduleBlock(masked: string, name: string): string {
    const start = new RegExp(`^module\\s+${name}\\s`, "m").exec(masked)?.index ?? -1;
    if (start === -1) throw new Error(`no module ${name}`);
    const next = masked.slice(start + 1).search(/^(module|resource|var|output|param)\s/m);
    return masked.slice(start, next === -1 ? undefined : start + 1 + next);
  }

  it("grant the app identity Storage Table Data Contributor on the account the host uses, which Durable Functions and notification delivery state need", () => {
    // Arrange
    const rbac = readRepoFile("infra/app/rbac.bicep");
    const mainMasked = maskBicep(readRepoFile("infra/main.bicep"));
    const roleVar = /^var\s+(\w+)\s*=\s*'0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'/m.exec(rbac)?.[1];

    // Act
    const assignment = rbac
      .split(/^(?=resource\s)/m)
      .find((block) => block.includes(`'Microsoft.Authorization/roleDefinitions', ${roleVar})`));
    const storageAccount =
      /^resource\s+storageAccount\s[^\n]*existing\s*=\s*\{\s*name:\s*(\w+)/m.exec(rbac)?.[1];
    const rbacModule = moduleBlock(mainMasked, "rbac");
    const apiModule = moduleBlock(mainMasked, "api");
    const endpoints = varExpression(mainMasked, "storageEndpointConfig");

    // Assert: assigned to the app identity, on the storage account, whenever tables are on...
    expect(roleVar).toBeDefined();
    expect(assignment).toBeDefined();
    expect(assignment).toMatch(/^resource\s+\w+\s+'[^']+'\s*=\s*if\s*\(enableTable\)\s*\{/);
    expect(assignment).toMatch(/^\s*scope:\s*storageAccount\s*$/m);
    expect(assignment).toMatch(/^\s*principalId:\s*managedIdentityPrincipalId\s*$/m);
    expect(storageAccount).toBe("storageAccountName");
    // ...which the deployment keeps on, for the same account as the function app's host storage.
    expect(endpoints).toMatch(/^\s*enableTable:\s*true\s*$/m);
    expect(rbacModule).toMatch(/^\s*enableTable:\s*storageEndpointConfig\.enableTable\s*$/m);
    expect(apiModule).toMatch(/^\s*enableTable:\s*storageEndpointConfig\.enableTable\s*$/m);
    const accountOf = (block: string) => /^\s*storageAccountName:\s*(\S+)\s*$/m.exec(block)?.[1];
    expect(accountOf(rbacModule)).toBeDefined();
    expect(accountOf(rbacModule)).toBe(accountOf(apiModule));
  });

  it("grant the Backup vault's identity Key Vault Secrets User on the template's Key Vault, which the app may not grant itself", () => {
    // Arrange
    const rbac = readRepoFile("infra/app/rbac.bicep");
    const roleVar = /^var\s+(\w+)\s*=\s*'4633458b-17de-408a-b874-0445c86b69e6'/m.exec(rbac)?.[1];

    // Act
    const assignments = rbac
      .split(/^(?=resource\s)/m)
      .filter((block) => block.includes(`'Microsoft.Authorization/roleDefinitions', ${roleVar})`));
    const forVault = assignments.find((block) =>
      /^\s*principalId:\s*backupVaultPrincipalId\s*$/m.test(block),
    );
    const assignable = /^var\s+assignableRoleIds\s*=\s*'([^']*)'/m.exec(rbac)?.[1];

    // Assert
    expect(roleVar).toBeDefined();
    expect(forVault).toMatch(/^\s*scope:\s*keyVault\s*$/m);
    expect(forVault).toMatch(/=\s*if\s*\(!empty\(backupVaultPrincipalId\)\)/);
    expect(assignable).toBeDefined();
    expect(assignable).not.toContain(roleVar);
  });

  it("are reached by the app the way it reads them: the table endpoint and the identity's client id", () => {
    // Act
    const keys = appSettingKeys();

    // Assert
    expect(keys).toEqual(
      expect.arrayContaining([
        "AzureWebJobsStorage__tableServiceUri",
        "AzureWebJobsStorage__clientId",
        "TASKHUB_NAME",
      ]),
    );
  });
});

describe("azure.yaml", () => {
  it("deploys the package at the repository root as a TypeScript function app", () => {
    // Arrange
    const yaml = readRepoFile("azure.yaml");

    // Act
    const service = /^services:\n {2}api:\n((?: {4}.*\n)+)/m.exec(yaml)?.[1] ?? "";

    // Assert
    expect(service).toMatch(/^ {4}project: \.\s*$/m);
    expect(service).toMatch(/^ {4}language: ts\s*$/m);
    expect(service).toMatch(/^ {4}host: function\s*$/m);
  });

  it("runs post-deploy hooks for sh and pwsh whose scripts exist", () => {
    // Arrange
    const yaml = readRepoFile("azure.yaml");

    // Act
    const runs = [...yaml.matchAll(/^\s*shell:\s*(\w+)\s*\n\s*run:\s*(\S+)\s*$/gm)].map((m) => ({
      shell: m[1] as string,
      script: m[2] as string,
    }));

    // Assert
    expect(yaml).toMatch(/^ {2}postdeploy:\s*$/m);
    expect(runs.map(({ shell }) => shell).sort()).toEqual(["pwsh", "sh"]);
    for (const { shell, script } of runs) {
      expect(existsSync(join(repoRoot, script))).toBe(true);
      expect(script.endsWith(shell === "sh" ? ".sh" : ".ps1")).toBe(true);
    }
  });
});

describe("the post-deploy scripts", () => {
  const scripts = ["scripts/post-deploy.sh", "scripts/post-deploy.ps1"];

  it("subscribe both Event Grid trigger functions by name", () => {
    for (const script of scripts) {
      // Arrange
      const text = readRepoFile(script);

      // Act
      const names = ["eventGridRouteNotifications", "eventGridAutoProtect"].filter((name) =>
        text.includes(name),
      );

      // Assert
      expect(names, script).toHaveLength(2);
    }
  });

  it("read from the azd environment only what main.bicep outputs or azd provides", () => {
    // Arrange
    const outputs = declaredOutputs("infra/main.bicep");
    const sh = readRepoFile("scripts/post-deploy.sh");
    const ps1 = readRepoFile("scripts/post-deploy.ps1");
    const shLocals = [...sh.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] as string);
    const shReads = [...sh.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] as string);
    const ps1Reads = [
      ...[...ps1.matchAll(/\$env:([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] as string),
      ...[...ps1.matchAll(/Get-RequiredSetting '([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1] as string),
    ];

    // Act
    const unknown = [
      ...new Set([...shReads.filter((name) => !shLocals.includes(name)), ...ps1Reads]),
    ]
      .filter((name) => !name.startsWith("PGPROTECT_"))
      .filter((name) => !outputs.includes(name) && !azdEnvironmentVariables.includes(name));

    // Assert
    expect(shReads).toContain("EVENTGRID_TOPIC_ID");
    expect(unknown).toEqual([]);
  });
});

/** The raw text of a `var`'s expression (strings intact), located through the masked source. */
function varSource(path: string, name: string): string {
  const source = readRepoFile(path);
  const masked = maskBicep(source);
  const match = new RegExp(`^var\\s+${name}\\s*=`, "m").exec(masked);
  if (!match) throw new Error(`no var ${name} in ${path}`);
  const expression = varExpression(masked, name);
  const start = match.index + match[0].length;
  return source.slice(start, start + expression.length);
}

/** The raw text of `<kind> <name> ...` up to the next top-level declaration. */
function declarationSource(path: string, kind: "resource" | "module", name: string): string {
  const source = readRepoFile(path);
  const start = new RegExp(`^${kind}\\s+${name}\\s`, "m").exec(source)?.index ?? -1;
  if (start === -1) throw new Error(`no ${kind} ${name} in ${path}`);
  const next = source.slice(start + 1).search(/^(module|resource|var|output|param)\s/m);
  return source.slice(start, next === -1 ? undefined : start + 1 + next);
}

const resourceSource = (path: string, name: string) => declarationSource(path, "resource", name);
const mainModuleSource = (name: string) => declarationSource("infra/main.bicep", "module", name);

/** The roles the HTTP handlers require, as they pass them to `authorize`. */
function rolesTheHandlersCheck(): string[] {
  const folder = join(repoRoot, "src", "functions");
  const roles = readdirSync(folder)
    .filter((name) => name.endsWith(".ts"))
    .flatMap((name) =>
      [...readFileSync(join(folder, name), "utf8").matchAll(/authorize\(\s*\w+,\s*"([^"]+)"/g)].map(
        (m) => m[1] as string,
      ),
    );
  return [...new Set(roles)].sort();
}

/** Routes of the HTTP functions registered with `authLevel: "anonymous"`, as `/api/<route>`. */
function anonymousRoutes(): string[] {
  const folder = join(repoRoot, "src", "functions");
  return readdirSync(folder)
    .filter((name) => name.endsWith(".ts"))
    .flatMap((name) => {
      const text = readFileSync(join(folder, name), "utf8");
      return [...text.matchAll(/app\.http\([^{]*\{([^}]*)\}/g)].flatMap((m) => {
        const options = m[1] as string;
        const route = /route:\s*"([^"]+)"/.exec(options)?.[1];
        return /authLevel:\s*"anonymous"/.test(options) && route ? [`/api/${route}`] : [];
      });
    });
}

describe("callers' roles, from the infrastructure to the handlers", () => {
  const registration = "infra/app/appRegistration.bicep";
  const authentication = "infra/app/authentication.bicep";

  it("load the Microsoft Graph Bicep extension, v1.0 pinned to a version, wherever Graph resources are declared", () => {
    // Arrange
    const config = JSON.parse(readRepoFile("infra/bicepconfig.json")) as {
      extensions?: Record<string, string>;
    };

    // Act
    const graphFiles = bicepFiles().filter((file) =>
      /'Microsoft\.Graph\/[^']+'/.test(readFileSync(file, "utf8")),
    );
    const withoutExtension = graphFiles
      .filter((file) => !/^extension\s+microsoftGraphV1\s*$/m.test(readFileSync(file, "utf8")))
      .map((file) => relative(repoRoot, file));
    const undeclared = bicepFiles().flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/^extension\s+(\w+)\s*$/gm)]
        .map((m) => m[1] as string)
        .filter((name) => config.extensions?.[name] === undefined),
    );

    // Assert
    expect(config.extensions?.["microsoftGraphV1"]).toMatch(
      /^br:mcr\.microsoft\.com\/bicep\/extensions\/microsoftgraph\/v1\.0:\d+\.\d+\.\d+$/,
    );
    expect(graphFiles.map((file) => relative(repoRoot, file))).toContain(registration);
    expect(withoutExtension).toEqual([]);
    expect(undeclared).toEqual([]);
  });

  it("define exactly the app roles Backup.Reader, Backup.Operator and Backup.AlertSender, the ones the handlers check", () => {
    // Arrange
    const roles = varSource(registration, "appRoles");
    const application = resourceSource(registration, "application");

    // Act
    const values = [...roles.matchAll(/^\s*value:\s*'([^']*)'\s*$/gm)].map((m) => m[1] as string);

    // Assert
    expect(values.sort()).toEqual(["Backup.AlertSender", "Backup.Operator", "Backup.Reader"]);
    expect(rolesTheHandlersCheck()).toEqual([
      "Backup.AlertSender",
      "Backup.Operator",
      "Backup.Reader",
    ]);
    expect(readRepoFile("src/http/principal.ts")).toContain(
      'export type AppRole = "Backup.Reader" | "Backup.Operator" | "Backup.AlertSender";',
    );
    expect(application).toMatch(/^resource\s+application\s+'Microsoft\.Graph\/applications@v1\.0'/);
    expect(application).toMatch(/^\s*appRoles:\s*\[for role in appRoles:\s*\{/m);
    // A stable id per role and app: redeploying keeps every assignment.
    expect(application).toMatch(/^\s*id:\s*guid\(uniqueName,\s*role\.value\)\s*$/m);
    expect(application).toMatch(/^\s*value:\s*role\.value\s*$/m);
    expect(application).toMatch(/allowedMemberTypes:\s*\[\s*'User'\s*'Application'\s*\]/);
    expect(application).toMatch(/^\s*isEnabled:\s*true\s*$/m);
  });

  it("issue v2 tokens for an application ID URI and give the app a service principal that requires a role", () => {
    // Arrange
    const application = resourceSource(registration, "application");
    const servicePrincipal = resourceSource(registration, "servicePrincipal");

    // Act
    const identifierUri = varSource(registration, "identifierUri").trim();

    // Assert
    expect(identifierUri).toBe("'api://${tenant().tenantId}/${uniqueName}'");
    expect(application).toMatch(/identifierUris:\s*\[\s*identifierUri\s*\]/);
    expect(application).toMatch(/^\s*requestedAccessTokenVersion:\s*2\s*$/m);
    expect(application).toMatch(/^\s*signInAudience:\s*'AzureADMyOrg'\s*$/m);
    expect(servicePrincipal).toMatch(/'Microsoft\.Graph\/servicePrincipals@v1\.0'/);
    expect(servicePrincipal).toMatch(/^\s*appId:\s*application\.appId\s*$/m);
    expect(servicePrincipal).toMatch(
      /^\s*appRoleAssignmentRequired:\s*appRoleAssignmentRequired\s*$/m,
    );
    expect(readRepoFile(registration)).toMatch(
      /^param\s+appRoleAssignmentRequired\s+bool\s*=\s*true$/m,
    );
  });

  it("require authentication with Entra ID on the function app, accepting tokens for the app registration only", () => {
    // Arrange
    const settings = resourceSource(authentication, "authSettings");

    // Act
    const audiences = /allowedAudiences:\s*\[([^\]]*)\]/.exec(settings)?.[1]?.trim().split(/\s+/);

    // Assert
    expect(settings).toMatch(/'Microsoft\.Web\/sites\/config@[^']+'/);
    expect(settings).toMatch(/^\s*name:\s*'authsettingsV2'\s*$/m);
    expect(settings).toMatch(/^\s*parent:\s*functionApp\s*$/m);
    expect(settings).toMatch(/platform:\s*\{\s*enabled:\s*true/);
    expect(settings).toMatch(/^\s*requireAuthentication:\s*true\s*$/m);
    expect(settings).toMatch(/^\s*unauthenticatedClientAction:\s*'Return401'\s*$/m);
    expect(settings).toMatch(/azureActiveDirectory:\s*\{\s*enabled:\s*true/);
    expect(settings).toMatch(/^\s*clientId:\s*clientId\s*$/m);
    // v2 tokens (requestedAccessTokenVersion 2) come from the tenant's v2.0 issuer.
    expect(settings).toMatch(
      /openIdIssuer:\s*'\$\{environment\(\)\.authentication\.loginEndpoint\}\$\{tenant\(\)\.tenantId\}\/v2\.0'/,
    );
    expect(audiences?.sort()).toEqual(["clientId", "identifierUri"]);
  });

  it("let through without a token only Event Grid's keyed webhook and the app's anonymous routes", () => {
    // Arrange
    const excluded = [...varSource(authentication, "excludedPaths").matchAll(/'([^']+)'/g)].map(
      (m) => m[1] as string,
    );
    const anonymous = anonymousRoutes();

    // Act
    const unexplained = excluded.filter(
      (path) => path !== "/runtime/webhooks/eventgrid" && !anonymous.includes(path),
    );

    // Assert
    expect(anonymous).toEqual(expect.arrayContaining(["/api/health"]));
    expect(excluded).toContain("/runtime/webhooks/eventgrid");
    expect(readRepoFile("scripts/post-deploy.sh")).toContain("/runtime/webhooks/eventgrid?");
    expect(unexplained).toEqual([]);
  });

  it("wire the app registration into the authentication, and tell the app with WEBSITE_AUTH_ENABLED under the same switch", () => {
    // Arrange
    const appRegistration = mainModuleSource("appRegistration");
    const auth = mainModuleSource("authentication");
    const authSettings = varSource("infra/main.bicep", "authAppSettings");

    // Act
    const keys = appSettingKeys();

    // Assert
    expect(appRegistration).toMatch(
      /^module\s+appRegistration\s+'app\/appRegistration\.bicep'\s*=\s*if\s*\(enableAuthentication\)/,
    );
    expect(auth).toMatch(
      /^module\s+authentication\s+'app\/authentication\.bicep'\s*=\s*if\s*\(enableAuthentication\)/,
    );
    expect(auth).toMatch(/^\s*clientId:\s*appRegistration\.outputs\.appId\s*$/m);
    expect(auth).toMatch(/^\s*identifierUri:\s*appRegistration\.outputs\.identifierUri\s*$/m);
    expect(auth).toMatch(/^\s*functionAppName:\s*api\.outputs\.SERVICE_API_NAME\s*$/m);
    expect(appRegistration).toMatch(
      /^\s*functionAppHostName:\s*api\.outputs\.SERVICE_API_DEFAULT_HOSTNAME\s*$/m,
    );
    expect(authSettings).toMatch(
      /^\s*enableAuthentication\s*\?\s*\{\s*WEBSITE_AUTH_ENABLED:\s*'true'\s*\}\s*:\s*\{\}\s*$/,
    );
    expect(keys).toContain("WEBSITE_AUTH_ENABLED");
    expect(configKeys).toContain("WEBSITE_AUTH_ENABLED");
    expect(loadConfig({ WEBSITE_AUTH_ENABLED: "true" }).WEBSITE_AUTH_ENABLED).toBe(true);
    expect(readRepoFile("infra/main.bicep")).toMatch(
      /^param\s+enableAuthentication\s+bool\s*=\s*true$/m,
    );
  });
});
