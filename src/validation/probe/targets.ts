/**
 * Where one probe may connect: each MX host name resolved once by us (A, then AAAA), one
 * address per host, best host first; addresses that are not globally routable are dropped
 * unless private networks are allowed. When nothing is left, the answer says why.
 */
import type { HostLookup, MxHost } from '../dns.js';
import { isProbeableHost, isPublicAddress } from './address.js';
import type { Deadline } from './connect.js';
import { providerOf } from './manners.js';
import { answer, failureAnswer, type SmtpAnswer } from './replies.js';

/** Resolves MX host names to addresses; MxResolver is one. */
export interface HostResolver {
  resolveHost(host: string, signal?: AbortSignal): Promise<HostLookup>;
}

export interface Target {
  exchange: string;
  provider: string;
  ip: string;
}

export interface TargetOptions {
  /** MX hosts tried at most. */
  maxHosts: number;
  allowPrivateNetworks: boolean;
}

/** The addresses to try, one per MX host, best first; or the answer when there are none. */
export async function probeTargets(
  hosts: MxHost[],
  resolver: HostResolver,
  options: TargetOptions,
  deadline: Deadline,
): Promise<{ targets: Target[] } | { answer: SmtpAnswer }> {
  const names = hosts.filter((h) => isProbeableHost(h.exchange)).slice(0, options.maxHosts);
  if (names.length === 0) return { answer: answer('no_mx', 'mx_not_hostname') };
  const lookups = await Promise.all(
    names.map((h) => resolver.resolveHost(h.exchange, deadline.signal).catch(() => ({ kind: 'aborted' }) as const)),
  );
  if (deadline.signal.aborted) return { answer: failureAnswer(deadline.kind()) };
  const targets: Target[] = [];
  let notPublic = 0;
  let unavailable = 0;
  names.forEach((h, i) => {
    const l = lookups[i]!;
    if (l.kind === 'unavailable' || l.kind === 'aborted') {
      unavailable++;
      return;
    }
    if (l.kind === 'none') return;
    const all = [...l.v4, ...l.v6];
    const ip = options.allowPrivateNetworks ? all[0] : all.find(isPublicAddress);
    if (ip === undefined) {
      notPublic++;
      return;
    }
    targets.push({ exchange: h.exchange, provider: providerOf(h.exchange), ip });
  });
  if (targets.length > 0) return { targets };
  if (unavailable > 0) return { answer: answer('smtp_unavailable', 'mx_dns_unavailable') };
  if (notPublic > 0) return { answer: answer('no_mx', 'mx_not_public') };
  return { answer: answer('smtp_unavailable', 'mx_no_address') };
}
