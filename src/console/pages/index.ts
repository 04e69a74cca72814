/** The console's pages: pure functions from a page context and a view to an HTML document. */
export { html, escapeHtml, Html, trusted } from './html.ts';
export { paths, CONSOLE_PREFIX } from './paths.ts';
export { layout, canChange, csrfField, type PageContext, type ConsoleUser, type ConsoleRole, type Notice } from './layout.ts';
export type { FormErrors } from './forms.ts';
export { signInPage, setPasswordPage, type SignInView, type SetPasswordView } from './sign-in.ts';
export { clientsListPage, filterClients, parseClientFilter, type ClientFilter, type ClientsListView } from './clients-list.ts';
export { clientDetailPage, hasSecret, type ClientDetailView, type ConsoleClient, type ClientExtras } from './client-detail.ts';
export {
  clientFormPage, clientFormValues, clientFormFromBody, emptyClientForm, parseClientForm, formFieldOf,
  type ClientFormView, type ClientFormValues, type ClientFormInput,
} from './client-form.ts';
export { secretPage, rotatePage, confirmPage, type SecretView, type RotateView, type StatusAction } from './client-actions.ts';
export { keysPage, type KeysView, type KeyDescription } from './keys.ts';
export { auditPage, auditTable, parseAuditFilter, matchesAudit, AUDIT_PAGE_SIZE, type AuditFilter, type AuditView } from './audit.ts';
export { trafficPage, trafficCharts, TRAFFIC_REFRESH_SECONDS, type TrafficView } from './traffic.ts';
export { lineChart, barTable, niceCeiling, type Series } from './chart.ts';
export { errorPage } from './error.ts';
export {
  sandboxPage, faultFormFromBody, faultSpecOf, emptyFaultForm, formatOffset, CLOCK_UNITS, RECENT_REQUESTS, FAULT_FIELDS,
  type SandboxView, type SandboxFaultView, type SandboxRequestView, type FaultFormValues, type ClockFormValues,
} from './sandbox.ts';
