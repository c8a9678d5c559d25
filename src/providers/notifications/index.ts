/** Notification delivery: senders, idempotency, the delivery log and the dispatcher. */
export * from "./types.js";
export { TeamsWebhookSender, type TeamsWebhookSenderOptions } from "./teamsWebhookSender.js";
export { SmtpEmailSender, type SmtpEmailSenderOptions } from "./smtpEmailSender.js";
export {
  AcsEmailSender,
  type AcsEmailSenderOptions,
  type AcsCredential,
} from "./acsEmailSender.js";
export { OutboxEmailSender, OutboxTeamsSender, type OutboxOptions } from "./outboxSender.js";
export * from "./idempotencyStore.js";
export * from "./deliveryLog.js";
export * from "./dispatcher.js";
export { createTeamsSenders, type TeamsSendersOptions } from "./channels.js";
export * from "./stateLocation.js";
export { createDeliveryState, isLoopbackHttp, type DeliveryState } from "./deliveryState.js";
export * from "./emailSenders.js";
export * from "./defaultSettings.js";
