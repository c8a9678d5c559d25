/**
 * Publishes pgprotect's CloudEvents to an Event Grid topic with `@azure/eventgrid`: in Azure with
 * the app's managed identity, locally to the runtime's own topic with its key.
 */
import {
  AzureKeyCredential,
  EventGridPublisherClient,
  type SendCloudEventInput,
} from "@azure/eventgrid";
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { AppError } from "../../domain/errors.js";
import type { EventPublisherPort, PublishedEvent } from "../ports.js";

/** Where and how to publish. */
export interface EventGridPublisherOptions {
  readonly endpoint: string;
  /** The topic's access key; without one the publisher authenticates with Microsoft Entra ID. */
  readonly key?: string;
  /**
   * Who signs in without a key: the app's credential at the cloud's authority (see
   * `providers/cloudCredential.ts`); `DefaultAzureCredential` at Azure Identity's default when absent.
   */
  readonly credential?: TokenCredential;
}

/** The CloudEvents `source` of every pgprotect event. */
export const eventSource = "/pgprotect";

/** Creates an {@link EventPublisherPort} over an Event Grid topic. */
export function createEventGridPublisher(options: EventGridPublisherOptions): EventPublisherPort {
  const insecure = options.endpoint.startsWith("http://");
  const client = options.key
    ? new EventGridPublisherClient(
        options.endpoint,
        "CloudEvent",
        new AzureKeyCredential(options.key),
        {
          allowInsecureConnection: insecure,
        },
      )
    : new EventGridPublisherClient(
        options.endpoint,
        "CloudEvent",
        options.credential ?? new DefaultAzureCredential(),
      );
  return {
    async publish(events: readonly PublishedEvent[]): Promise<void> {
      if (events.length === 0) return;
      const batch: SendCloudEventInput<unknown>[] = events.map((event) => ({
        type: event.type,
        source: event.source ?? eventSource,
        subject: event.subject,
        id: event.id,
        time: new Date(event.time),
        data: event.data,
        datacontenttype: "application/json",
        ...(event.dataschema ? { dataschema: event.dataschema } : {}),
      }));
      try {
        await client.send(batch);
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        throw new AppError(
          "EVENT_PUBLISH_FAILED",
          `Publishing ${events.length} event(s) to Event Grid failed: ${(error as Error).message}`,
          {
            httpStatus: 502,
            // Throttling and outages pass; a refused key or schema does not.
            retryable: status === undefined || status === 429 || status >= 500,
            cause: error,
          },
        );
      }
    },
  };
}
