/**
 * Address literals (`u@[192.0.2.1]`, `u@[IPv6:2001:db8::1]`, RFC 5321 §4.1.3) name a host
 * instead of a domain: no MX, no lists, and they are never probed (a literal is the
 * shortest way to point the SMTP check at an internal host). A literal that is not
 * globally routable (loopback, RFC 1918, CGNAT, link-local, ULA, multicast, reserved,
 * documentation, and IPv4-mapped or NAT64 forms) cannot be a public mailbox; a public one
 * may be, but no sign-up form should see one, so it is risky with a reason of its own.
 */
import ipaddr from 'ipaddr.js';

/** `[1.2.3.4]` or `[IPv6:…]` as syntax.ts writes it → whether it is a globally routable unicast address. */
export function isPublicAddressLiteral(literal: string): boolean {
  const inner = literal.slice(1, -1);
  const text = inner.slice(0, 5).toLowerCase() === 'ipv6:' ? inner.slice(5) : inner;
  if (!ipaddr.isValid(text)) return false;
  // process() turns IPv4-mapped IPv6 (::ffff:10.0.0.1) into the IPv4 address it stands for.
  return ipaddr.process(text).range() === 'unicast';
}
