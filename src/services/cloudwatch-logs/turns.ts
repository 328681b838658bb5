/**
 * Round-robin turns over items with work pending: each turn does one step (a page) of one item,
 * and an item with more to do goes back to the end of the line, so a busy item never starves the
 * others and gets every turn once they are done. `lanes` turns run at once (the steps wait on a
 * shared rate limiter, which serves them in order); one item is never in two turns at once.
 * `turn` resolves true when its item has more to do; it must not throw.
 */
export async function takeTurns<T>(
  items: readonly T[],
  lanes: number,
  turn: (item: T) => Promise<boolean>,
  signal: AbortSignal,
): Promise<void> {
  const line = [...items];
  const lane = async (): Promise<void> => {
    for (let item = line.shift(); item !== undefined && !signal.aborted; item = line.shift()) {
      if (await turn(item)) line.push(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, line.length) }, lane));
}
