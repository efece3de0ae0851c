import { bool, optionalStr } from '../config-fields.js';

/**
 * The validation engine's slice of the configuration. Each check can be turned off on its
 * own; the checks that reach the network have their own fields below.
 */
export const validationFields = {
  listsEnabled: bool({
    env: 'CHECK_LISTS',
    description: 'Disposable-domain, role-account and free-provider lists, and typo suggestions.',
    default: true,
  }),
  allowListFile: optionalStr({
    env: 'ALLOW_LIST_FILE',
    description:
      'File of domains (one per line, # comments) never flagged disposable, overriding the packaged lists; subdomains match too.',
    example: '/etc/efv/allow-domains.txt',
  }),
  denyListFile: optionalStr({
    env: 'DENY_LIST_FILE',
    description:
      'File of domains (one per line, # comments) treated as disposable (risky, reason disposable); subdomains match too.',
    example: '/etc/efv/deny-domains.txt',
  }),
};
