import { useEffect, useState } from "react";

/** Seconds left of a wait that started at `seconds` (null: no wait); ticks once a second down to 0. */
export function useCountdown(seconds: number | null): number | null {
  const [left, setLeft] = useState(seconds);
  const [started, setStarted] = useState(seconds);
  if (started !== seconds) {
    setStarted(seconds);
    setLeft(seconds);
  }
  useEffect(() => {
    if (left === null || left <= 0) return;
    const timer = setTimeout(() => setLeft(left - 1), 1000);
    return () => clearTimeout(timer);
  }, [left]);
  return left;
}
