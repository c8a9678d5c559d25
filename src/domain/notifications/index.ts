/** Notification routing and rendering: rules, views, Teams cards, emails, digests. */
export * from "./rules.js";
export * from "./view.js";
export * from "./links.js";
export * from "./digest.js";
export * from "./teamsCard.js";
export * from "./email.js";
