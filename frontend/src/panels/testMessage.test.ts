import type { MessageStatus } from "../api/types";
import { MESSAGE_POLL_MS, MESSAGE_WATCH_MS, mapTestMessageItems, nextMessagePoll, normalizeRecipient } from "./testMessage";

const item = (field: string, code = "x") => ({ field, code, message: `${field} is wrong` });

describe("where the test message's problems are shown", () => {
  it("puts each item the API names at its field, and the rest in the general list", () => {
    // Given the items a 422 (Meta's refusal) or a 400 (a malformed request) may carry
    const items = [
      item("to", "recipient_not_allowed"),
      item("template", "meta_error"),
      item("template.name"),
      item("body.template.language"),
      item("text"),
      item("access_token", "token_expired"),
      item("body"),
    ];
    // When they are mapped
    const mapped = mapTestMessageItems(items);
    // Then Meta's template refusal and a malformed name both go to the template name
    expect(mapped.byField.to?.map((i) => i.code)).toEqual(["recipient_not_allowed"]);
    expect(mapped.byField.template_name?.map((i) => i.field)).toEqual(["template", "template.name"]);
    expect(mapped.byField.template_language?.map((i) => i.field)).toEqual(["body.template.language"]);
    expect(mapped.byField.text?.map((i) => i.field)).toEqual(["text"]);
    // And the token (no field of this panel) and the body are listed apart, none lost
    expect(mapped.general.map((i) => i.field)).toEqual(["access_token", "body"]);
  });
});

describe("following a sent message", () => {
  const message = (status: MessageStatus["status"], failed = false) => ({ status, failed }) as MessageStatus;

  it.each(["PENDING", "SENT"] as const)("asks again every 2 s while %s", (status) => {
    expect(nextMessagePoll(undefined, 0)).toBe(MESSAGE_POLL_MS);
    expect(nextMessagePoll(message(status), MESSAGE_WATCH_MS - 1)).toBe(MESSAGE_POLL_MS);
  });

  it.each(["DELIVERED", "READ", "PLAYED", "FAILED"] as const)("stops once %s", (status) => {
    expect(nextMessagePoll(message(status), 0)).toBe(false);
  });

  it("stops at a reported failure, and after a minute whatever the status", () => {
    expect(nextMessagePoll(message("SENT", true), 0)).toBe(false);
    expect(nextMessagePoll(message("SENT"), MESSAGE_WATCH_MS)).toBe(false);
    expect(nextMessagePoll(undefined, MESSAGE_WATCH_MS)).toBe(false);
  });
});

describe("the recipient", () => {
  it("is sent as digits only", () => {
    expect(normalizeRecipient(" +55 (11) 99999-0000 ")).toBe("5511999990000");
    expect(normalizeRecipient("1.555.013.1030")).toBe("15550131030");
  });
});
