import { parentTokenBridge, TOKEN_ANSWER, TOKEN_REQUEST } from "./tokenBridge";

describe("the iframe token bridge", () => {
  it("asks the embedding page and believes only an allowed origin", async () => {
    // Given a page embedded by https://app.example.com, and a parent that records what it is sent
    const sent: { message: { type: string; id: string }; origin: string }[] = [];
    const parent = { postMessage: (message: { type: string; id: string }, origin: string) => sent.push({ message, origin }) } as unknown as Window;
    const bridge = parentTokenBridge(["https://app.example.com"], parent, window, "https://app.example.com/settings");
    // When a token is asked for
    const token = bridge.getAccessToken();
    expect(sent[0]).toMatchObject({ message: { type: TOKEN_REQUEST }, origin: "https://app.example.com" });
    const id = sent[0]!.message.id;
    // Then an answer from another origin is ignored, and the allowed origin's answer is used
    window.dispatchEvent(new MessageEvent("message", { data: { type: TOKEN_ANSWER, id, token: "evil" }, origin: "https://evil.example", source: parent as MessageEventSource }));
    window.dispatchEvent(new MessageEvent("message", { data: { type: TOKEN_ANSWER, id, token: "jwt-1" }, origin: "https://app.example.com", source: parent as MessageEventSource }));
    await expect(token).resolves.toBe("jwt-1");
  });

  it("refuses when not embedded", async () => {
    const bridge = parentTokenBridge(["https://app.example.com"], window, window, "");
    await expect(bridge.getAccessToken()).rejects.toThrow("not embedded");
  });
});
