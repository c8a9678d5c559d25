/**
 * The headers of what the dashboard and the calendar answer: a Content-Security-Policy that lets a
 * page reach its own origin only and run no inline script, no caching of data, and no key leaking
 * through a `Referer`.
 */
import type { HttpResponseInit } from "@azure/functions";

/** The page's policy: scripts, styles, images and API calls from the app's own origin only. */
export const dashboardContentSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** An SVG served on its own runs nothing and loads nothing; its inline attributes still apply. */
export const svgContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'";

const commonHeaders = {
  "x-content-type-options": "nosniff",
  // The page is opened with the key in its address: no request it makes may carry that address.
  "referrer-policy": "no-referrer",
};

/** A text answer of the given media type and content security policy. */
export function textResponse(
  body: string,
  contentType: string,
  csp: string,
  cacheControl = "no-store",
): HttpResponseInit {
  return {
    status: 200,
    body,
    headers: {
      "content-type": contentType,
      "content-security-policy": csp,
      "cache-control": cacheControl,
      ...commonHeaders,
    },
  };
}
