import { useQuery, useQueryClient, type Query } from "@tanstack/react-query";
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

type LiveQuery = Query<LiveStatus, Error, LiveStatus, readonly unknown[]>;

/**
 * The connection status of one integration, polled with If-None-Match: quickly while connecting or
 * disconnecting, slowly otherwise, not at all while the tab is hidden (TanStack Query's default for
 * refetchInterval). The detail and list rows share it, so each integration is polled once; `poll` decides
 * whether this caller asks at all (a list row asks only while its number is connecting or disconnecting, and
 * otherwise just reads what the open detail fetched).
 */
export function useLiveStatus(id: string, poll: boolean | ((query: LiveQuery) => boolean) = true) {
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
        if (previous && tagged.body.status !== previous.tagged.body.status) {
          void queryClient.invalidateQueries({ queryKey: keys.list }); // its row's last error and check too
        }
        return { tagged, unchangedPolls: 0 };
      } catch (error) {
        if (error instanceof ApiError && error.code === "integration_not_found") {
          void queryClient.invalidateQueries({ queryKey: keys.list }); // deleted: the row goes away
        }
        throw error;
      }
    },
    enabled: poll,
    refetchInterval: (query) => {
      const data = query.state.data;
      return pollDelayMs(data?.tagged.body.status, data?.unchangedPolls ?? 0);
    },
    refetchIntervalInBackground: false,
  });
}
