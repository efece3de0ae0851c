import { bool } from '../config-fields.js';

/** Which checks run. The full engine adds its own fields here (DNS, provider, SMTP). */
export const validationFields = {
  listsEnabled: bool({
    env: 'CHECK_LISTS',
    description: 'Disposable-domain, role-account and free-provider lists, and typo suggestions.',
    default: true,
  }),
};
