/**
 * `keymint consents …`: a user's (or organization's) connected apps, and the withdrawal of one, on
 * the data directory; the same functions as `GET` and `DELETE /admin/v1/consents` (protocol/consent.ts),
 * audited `consent.revoke` by `cli`.
 */
import { checkedSubject } from '../credentials/sessions.ts';
import { connectedApps, withdrawApp } from '../protocol/consent.ts';
import type { SubjectType } from '../storage/types.ts';
import { CliError, type Command, type FlagSpec, type Flags } from './command.ts';

const out = (s: string) => process.stdout.write(s);
const SUBJECT_FLAGS: Readonly<Record<string, FlagSpec>> = {
  subject: { type: 'string', value: 'SUBJECT', required: true, doc: 'The user (or organization) whose consents these are, as its sessions name it' },
  'subject-type': { type: 'string', value: 'TYPE', choices: ['user', 'organization'], doc: 'What the subject is (default user)' },
  json: { type: 'boolean', doc: 'Print JSON instead of text' },
};

/** The subject the flags name, checked as the admin API checks it (a UUID for an organization). */
function subjectOf(flags: Flags): { subject: string; subjectType: SubjectType } {
  const subjectType = (flags['subject-type'] ?? 'user') as SubjectType;
  return { subject: checkedSubject(subjectType, flags.subject), subjectType };
}

export const consentsList: Command = {
  name: 'consents list',
  summary: "List a user's connected apps: the clients they consented to, and whether a grant is live",
  store: 'existing',
  flags: SUBJECT_FLAGS,
  examples: ['consents list --subject 8b4f1c1e-3a55-4d2b-9a57-0d7f0c5e1a11', 'consents list --subject alice@example.com --json'],
  async run({ flags, withCore }) {
    const { subject, subjectType } = subjectOf(flags);
    const consents = await withCore((core) => connectedApps(subjectType, subject, Date.now(), core));
    if (flags.json === true) {
      out(`${JSON.stringify({ subject, subject_type: subjectType, consents }, null, 2)}\n`);
      return 0;
    }
    if (consents.length === 0) out(`${subjectType} ${subject} has no connected apps\n`);
    // Ids and scopes differ in length: pad both, so the columns line up and the name (free text) comes last.
    const idWidth = consents.reduce((w, c) => Math.max(w, c.client_id.length), 0);
    const scopeWidth = consents.reduce((w, c) => Math.max(w, c.scope.length), 0);
    for (const c of consents) {
      out(`${c.client_id.padEnd(idWidth)}  ${c.granted_at}  ${(c.live_grants ? 'live' : 'idle').padEnd(4)}  ${c.scope.padEnd(scopeWidth)}  ${c.client_name ?? '(deleted client)'}\n`);
    }
    return 0;
  },
};

export const consentsRevoke: Command = {
  name: 'consents revoke',
  summary: "Withdraw a user's consent to a client and revoke every grant of the user for it",
  description: 'The next authorization request of the client for that user shows the consent page again; refresh and access tokens end at once (audited as consent.revoke by cli).',
  store: 'existing',
  args: [{ name: 'CLIENT_ID', doc: 'The client, as keymint consents list shows it', required: true }],
  flags: SUBJECT_FLAGS,
  examples: ['consents revoke sk_live_4eC39HqLyjWDarjtT1zdp7dc --subject 8b4f1c1e-3a55-4d2b-9a57-0d7f0c5e1a11', 'consents revoke sk_live_4eC39HqLyjWDarjtT1zdp7dc --subject alice@example.com --json'],
  async run({ args, flags, withCore }) {
    const clientId = args[0]!;
    const { subject, subjectType } = subjectOf(flags);
    const ended = await withCore((core) => withdrawApp(clientId, subjectType, subject, Date.now(), 'cli', core));
    if (!ended) throw new CliError('notFound', `${subjectType} ${subject} has no consent or live grant for the client ${clientId}; keymint consents list --subject ${subject}${subjectType === 'user' ? '' : ` --subject-type ${subjectType}`} shows them`);
    if (flags.json === true) out(`${JSON.stringify({ client_id: clientId, subject, subject_type: subjectType, consent: ended.consent, tokens_revoked: ended.tokens })}\n`);
    else out(`revoked ${clientId} for ${subjectType} ${subject}: ${ended.consent ? 'consent withdrawn' : 'no consent was recorded'}, ${ended.tokens} token${ended.tokens === 1 ? '' : 's'} revoked\n`);
    return 0;
  },
};
