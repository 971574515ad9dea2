import type { ComponentType } from "react";
import type { ConnectionStatus, Integration } from "../api/types";

export interface PanelProps {
  integration: Integration;
  status: ConnectionStatus | undefined;
}

/** A tool shown under an integration's status. Adding one is one component and one entry in the list. */
export interface PanelDefinition {
  id: string;
  Component: ComponentType<PanelProps>;
}
