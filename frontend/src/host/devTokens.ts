// Local only: the tenant picker asks local/page.py for a development JWT. Kept in memory, never in storage.

export interface DevToken {
  token: string;
  tenant: string;
  mintedAt: number;
}

export async function mintDevToken(url: string, tenant: string, readOnly: boolean): Promise<DevToken> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ tenant, read_only: readOnly }),
  });
  if (!response.ok) throw new Error(`token: HTTP ${response.status}`);
  const body = (await response.json()) as { access_token: string };
  return { token: body.access_token, tenant, mintedAt: Date.now() };
}
