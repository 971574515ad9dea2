import { errorFromAnswer, parseRetryAfter } from "./problem";

const headers = (values: Record<string, string> = {}) => new Headers(values);

describe("errorFromAnswer", () => {
  it("keeps a problem+json with its items, Retry-After and ETag", () => {
    // Given a 412 problem with an ETag, When it is read
    const error = errorFromAnswer(
      412,
      headers({ etag: '"5"', "retry-after": "3" }),
      JSON.stringify({ type: "urn:x", title: "Stale version", status: 412, detail: "Changed.", code: "version_mismatch", errors: [{ field: "body", code: "x", message: "m" }] }),
    );
    // Then every part is kept
    expect(error.kind).toBe("problem");
    expect(error.code).toBe("version_mismatch");
    expect(error.etag).toBe('"5"');
    expect(error.retryAfterSeconds).toBe(3);
    expect(error.problem.errors[0]).toMatchObject({ field: "body", code: "x", message: "m" });
  });

  it("reads API Gateway's own {message} answers as gateway errors", () => {
    const error = errorFromAnswer(403, headers(), '{"message":"Forbidden"}');
    expect(error.kind).toBe("gateway");
    expect(error.status).toBe(403);
  });

  it("never lets an object through where text is shown", () => {
    // Given a problem whose texts are objects (a broken or hostile answer)
    const error = errorFromAnswer(400, headers(), JSON.stringify({ code: "x", title: { a: 1 }, detail: [1], errors: [{ field: {}, message: { b: 2 }, fix: 3 }] }));
    // Then only strings remain: nothing can render as [object Object]
    expect(error.problem.title).toBe("");
    expect(error.problem.detail).toBe("");
    expect(error.problem.errors[0]).toMatchObject({ field: "body", message: "", fix: null });
    expect(JSON.stringify(error.problem)).not.toContain("[object Object]");
  });

  it("treats HTML or empty answers as unexpected", () => {
    expect(errorFromAnswer(502, headers(), "<html>Bad gateway</html>").kind).toBe("unexpected");
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("30")).toBe(30);
    expect(parseRetryAfter(new Date(10_000 + 5_000).toUTCString(), 10_000)).toBe(5);
    expect(parseRetryAfter("soon")).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });
});
