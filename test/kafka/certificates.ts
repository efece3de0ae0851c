import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  /** PEM of the CA that signed the broker and client certificates. */
  caFile: string;
  /** PEM of a second CA that signed nothing the broker uses. */
  otherCaFile: string;
  /** PKCS12 key store of the broker: its key and a certificate for 127.0.0.1/localhost. */
  brokerKeyStore: string;
  /** PKCS12 trust store holding the CA, for the broker to check client certificates. */
  brokerTrustStore: string;
  storePassword: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/** P-256 keys: generated in milliseconds where RSA takes seconds on a busy test machine. */
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(
    ['req', '-x509', ...EC_KEY, '-nodes', '-days', '2', '-subj', `/CN=${name}`]
      .concat(['-keyout', `${name}.key`, '-out', `${name}.pem`])
      .concat(['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']),
    dir,
  );
}

function signLeaf(dir: string, name: string, ca: string, ext: string): void {
  openssl(['req', ...EC_KEY, '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
  writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial'].concat([
      '-days',
      '2',
      '-out',
      `${name}.pem`,
      '-extfile',
      `${name}.ext`,
    ]),
    dir,
  );
}

/**
 * A throw-away PKI made with the machine's openssl: a CA, a broker certificate whose SAN
 * names 127.0.0.1 (so host-name checking stays on), a client certificate, and a second,
 * unrelated CA for the negative test.
 */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'efv-pki-'));
  const storePassword = randomBytes(8).toString('hex');
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  signLeaf(dir, 'broker', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth');
  signLeaf(dir, 'client', 'ca', 'extendedKeyUsage=clientAuth');
  openssl(
    ['pkcs12', '-export', '-in', 'broker.pem', '-inkey', 'broker.key', '-certfile', 'ca.pem', '-name', 'broker'].concat(
      ['-out', 'broker.p12', '-passout', `pass:${storePassword}`],
    ),
    dir,
  );
  // A trust store is a PKCS12 of certificate entries only: keytool writes those with the
  // attribute Java needs to trust them, which openssl's pkcs12 -nokeys does not.
  execFileSync(
    'keytool',
    ['-importcert', '-noprompt', '-alias', 'ca', '-file', 'ca.pem', '-keystore', 'truststore.p12'].concat([
      '-storetype',
      'PKCS12',
      '-storepass',
      storePassword,
    ]),
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    brokerKeyStore: join(dir, 'broker.p12'),
    brokerTrustStore: join(dir, 'truststore.p12'),
    storePassword,
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
  };
}
