import { useQuery, useQueryClient } from "@tanstack/react-query";
import { getStatus, type Tagged } from "../api/integrations";
import { ApiError } from "../api/problem";
import { keys } from "../api/queries";
import type { ConnectionStatus } from "../api/types";
import { usePage } from "../context";
import { pollDelayMs } from "./polling";

export const HISTORY_LENGTH = 10;

export interface LiveStatus {
  tagged: Tagged<ConnectionStatus>;
  /** How many answers in a row were 304 Not Modified. */
  unchangedPolls: number;
}

/**
 * The connection status of one integration, polled with If-None-Match: quickly while connecting or
 * disconnecting, slowly otherwise, not at all while the tab is hidden (TanStack Query's default for
 * refetchInterval). List rows and the detail share it, so each integration is polled once.
 */
export function useLiveStatus(id: string) {
  const { api } = usePage();
  const queryClient = useQueryClient();
  return useQuery({
    queryKey: keys.status(id),
    queryFn: async (): Promise<LiveStatus> => {
      const previous = queryClient.getQueryData<LiveStatus>(keys.status(id));
      try {
        const tagged = await getStatus(api, id, HISTORY_LENGTH, previous?.tagged);
        if (previous && tagged === previous.tagged) return { tagged, unchangedPolls: previous.unchangedPolls + 1 };
        if (previous && tagged.body.version !== previous.tagged.body.version) {
          void queryClient.invalidateQueries({ queryKey: keys.integration(id) });
        }
        return { tagged, unchangedPolls: 0 };
      } catch (error) {
        if (error instanceof ApiError && error.code === "integration_not_found") {
          void queryClient.invalidateQueries({ queryKey: keys.list }); // deleted: the row goes away
        }
        throw error;
      }
    },
    refetchInterval: (query) => {
      const data = query.state.data;
      return pollDelayMs(data?.tagged.body.status, data?.unchangedPolls ?? 0);
    },
    refetchIntervalInBackground: false,
  });
}
