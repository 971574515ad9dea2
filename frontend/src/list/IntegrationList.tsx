import { useInfiniteQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { listIntegrations } from "../api/integrations";
import { keys } from "../api/queries";
import { usePage } from "../context";
import { useI18n } from "../i18n";
import { ErrorNotice } from "../ui/ErrorNotice";
import { IntegrationRow } from "./IntegrationRow";

export const LIST_DATA_MARK = "integrations:list-data";
export const LIST_PAINTED_MARK = "integrations:list-painted";
export const LIST_PAINT_MEASURE = "integrations:list-paint";
const LIST_REFRESH_MS = 30_000;

/** Marks when the list was painted after its data arrived, so the browser test can read the delay. */
function afterNextPaint(then: () => void) {
  requestAnimationFrame(() =>
    setTimeout(() => {
      performance.mark(LIST_PAINTED_MARK);
      performance.measure(LIST_PAINT_MEASURE, LIST_DATA_MARK, LIST_PAINTED_MARK);
      then();
    }, 0),
  );
}

export function IntegrationList({ selectedId, onOpen }: { selectedId: string | null; onOpen: (id: string) => void }) {
  const { t } = useI18n();
  const { api } = usePage();
  const list = useInfiniteQuery({
    queryKey: keys.list,
    queryFn: async ({ pageParam }) => {
      const page = await listIntegrations(api, pageParam);
      performance.mark(LIST_DATA_MARK);
      return page;
    },
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    refetchInterval: LIST_REFRESH_MS,
  });
  // A row that polls its status (connecting or disconnecting) starts after the rows are painted.
  const [rowsPainted, setRowsPainted] = useState(false);
  const updatedAt = list.dataUpdatedAt;
  useEffect(() => {
    if (updatedAt) afterNextPaint(() => setRowsPainted(true));
  }, [updatedAt]);

  if (list.isPending) return <p role="status">{t("list.loading")}</p>;
  if (!list.data) return <ErrorNotice error={list.error} onRetry={() => void list.refetch()} />;
  const integrations = list.data.pages.flatMap((page) => page.items);
  if (integrations.length === 0) return <p>{t("list.empty")}</p>;
  return (
    <>
      <table className="wi-table">
        <caption className="wi-visually-hidden">{t("list.caption")}</caption>
        <thead>
          <tr>
            <th scope="col">{t("list.name")}</th>
            <th scope="col">{t("list.phone")}</th>
            <th scope="col">{t("list.status")}</th>
            <th scope="col">{t("list.quality")}</th>
            <th scope="col">{t("list.last_check")}</th>
            <th scope="col">{t("list.last_error")}</th>
          </tr>
        </thead>
        <tbody>
          {integrations.map((integration) => (
            <IntegrationRow
              key={integration.id}
              integration={integration}
              listedAt={updatedAt}
              selected={integration.id === selectedId}
              painted={rowsPainted}
              onOpen={onOpen}
            />
          ))}
        </tbody>
      </table>
      {list.hasNextPage && (
        <button type="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          {t("list.more")}
        </button>
      )}
      {list.isRefetchError && <ErrorNotice error={list.error} onRetry={() => void list.refetch()} />}
    </>
  );
}
