/**
 * Self-signed CA certificates for HTTPS fakes on 127.0.0.1: `@azure/core-rest-pipeline` sends
 * bearer tokens over https only, so fake Azure endpoints serve TLS and the clients trust these.
 */
import { generate } from "selfsigned";

const certificates = new Map<string, Promise<{ key: string; cert: string }>>();

/**
 * One certificate per subject per test process.
 *
 * @param commonName - the subject; fakes trusted together through `NODE_EXTRA_CA_CERTS` need
 * different ones, since issuers are looked up by subject.
 */
export function loopbackCertificate(
  commonName = "127.0.0.1",
): Promise<{ key: string; cert: string }> {
  let certificate = certificates.get(commonName);
  if (!certificate) {
    certificate = generate([{ name: "commonName", value: commonName }], {
      keyType: "ec",
      extensions: [
        { name: "basicConstraints", cA: true },
        {
          name: "subjectAltName",
          altNames: [
            { type: 7, ip: "127.0.0.1" },
            { type: 2, value: "localhost" },
          ],
        },
      ],
    }).then((pems) => ({ key: pems.private, cert: pems.cert }));
    certificates.set(commonName, certificate);
  }
  return certificate;
}
