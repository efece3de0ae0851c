/**
 * Where a probe may go. An MX host is a name (RFC 5321 §5.1: never an address), resolved
 * once by us; the probe connects to one of the addresses found, never to the name again
 * (a second resolution could answer differently: DNS rebinding).
 *
 * Globally routable means ipaddr.js's `unicast` range (it names loopback, RFC 1918,
 * CGNAT 100.64/10, link-local, ULA, multicast, reserved, documentation, benchmarking,
 * unspecified and broadcast ranges), and for IPv6 also inside 2000::/3. An IPv6 form that
 * embeds an IPv4 address (IPv4-mapped, NAT64 64:ff9b::/96, 6to4, Teredo, IPv4-compatible)
 * is refused outright: a public host has a plain address to be reached at.
 */
import ipaddr from 'ipaddr.js';

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');

/** True when `ip` (a textual IPv4 or IPv6 address) is globally routable. */
export function isPublicAddress(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return false;
  // Only the four-part dotted decimal form: ipaddr, like inet_aton, also reads 0x7f.1 or 2130706433.
  if (!ip.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(ip)) return false;
  const addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv4') return addr.range() === 'unicast';
  const v6 = addr as ipaddr.IPv6;
  if (!v6.match(GLOBAL_UNICAST_V6)) return false;
  return v6.range() === 'unicast';
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// The last label of a host name starts with a letter (RFC 1123 §2.1: so that it can never
// be read as a number), or is an IDNA A-label.
const TOP_LABEL = /^(?:[a-z][a-z0-9-]{0,61}[a-z0-9]|[a-z]|xn--[a-z0-9-]{1,59})$/;

/**
 * True for a name a probe may resolve: LDH labels, at least two, the last starting with a
 * letter (or `xn--`). Refuses IP literals in any spelling (`127.0.0.1`, `127.0x1`,
 * `2130706433`), single labels (`localhost`), and anything with other characters.
 */
export function isProbeableHost(name: string): boolean {
  const host = name.endsWith('.') ? name.slice(0, -1) : name;
  if (host.length === 0 || host.length > 253) return false;
  const labels = host.toLowerCase().split('.');
  if (labels.length < 2) return false;
  if (!TOP_LABEL.test(labels[labels.length - 1]!)) return false;
  return labels.every((l) => LABEL.test(l));
}
