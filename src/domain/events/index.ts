/** pgprotect's CloudEvents: types, builders, validation and stable ids. */
export * from "./types.js";
export * from "./builders.js";
export * from "./schema.js";
export { stableUuid } from "./stableId.js";
