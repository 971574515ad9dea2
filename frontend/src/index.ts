// What a SaaS imports: the page component, its props, and the panel contract to add its own tools.
export { IntegrationsPage, defaultPanels, type IntegrationsPageProps } from "./IntegrationsPage";
export type { PanelDefinition, PanelProps } from "./panels/panel";
export { diagnosticsPanel } from "./panels/DiagnosticsPanel";
export { testMessagePanel } from "./panels/TestMessagePanel";
export { webhooksPanel } from "./panels/WebhooksPanel";
