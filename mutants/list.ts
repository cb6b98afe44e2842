// The planted bugs `npm run mutants` applies, one at a time, to a copy of the repository: each replaces
// `search` (which must occur exactly once in `file`) with `replace` and runs `tests`, which must fail.
// To plant another bug, add an entry; nothing else changes.

/** One planted bug. */
export interface Mutant {
  /** What the bug is, as a sentence. */
  readonly name: string;
  /** The file to plant it in, relative to the repository root. */
  readonly file: string;
  /** Text that occurs exactly once in `file`. */
  readonly search: string;
  readonly replace: string;
  /** The test files that must catch it. */
  readonly tests: readonly string[];
}

const SUPERVISION = ["test/otp.test.ts", "test/machines.test.ts"];
const DELIVERY = ["test/machines.test.ts", "test/model.test.ts"];

export const mutants: readonly Mutant[] = [
  {
    name: "intensity off by one: one restart more than maxRestarts is allowed",
    file: "machines/supervision.ts",
    search: "return recent < policy.maxRestarts;",
    replace: "return recent <= policy.maxRestarts;",
    tests: SUPERVISION,
  },
  {
    name: "intensity window off by one: a restart exactly withinMs ago still counts",
    file: "machines/supervision.ts",
    search: "if (now - at < policy.withinMs) recent++;",
    replace: "if (now - at <= policy.withinMs) recent++;",
    tests: SUPERVISION,
  },
  {
    name: "a backoff that never resets after the part was stable",
    file: "machines/router.ts",
    search: "record.consecutiveFailures = stable ? 1 : record.consecutiveFailures + 1;",
    replace: "record.consecutiveFailures = record.consecutiveFailures + 1;",
    tests: SUPERVISION,
  },
  {
    name: "rest-for-one restarting the wrong side (the parts registered before the failed one)",
    file: "machines/supervision.ts",
    search: "return at === -1 ? [failed] : order.slice(at);",
    replace: "return at === -1 ? [failed] : order.slice(0, at + 1);",
    tests: SUPERVISION,
  },
  {
    name: "one-for-all restarting only the failed part",
    file: "machines/supervision.ts",
    search: 'if (strategy === "one-for-all") return [...order];',
    replace: 'if (strategy === "one-for-all") return [failed];',
    tests: SUPERVISION,
  },
  {
    name: "a temporary part restarted after a failure",
    file: "machines/supervision.ts",
    search: 'if (type === "temporary") return false;',
    replace: 'if (type === "temporary") return abnormal;',
    tests: SUPERVISION,
  },
  {
    name: "a temporary part restarted when a sibling's failure took it down",
    file: "machines/router.ts",
    search: 'if (name !== part && victim.spec.restart === "temporary") {',
    replace: 'if (name !== part && victim.spec.restart === "temporary" && false) {',
    tests: SUPERVISION,
  },
  {
    name: "a transient part restarted after a normal exit",
    file: "machines/supervision.ts",
    search: 'if (type === "transient") return abnormal;',
    replace: 'if (type === "transient") return true;',
    tests: SUPERVISION,
  },
  {
    name: "escalation never firing",
    file: "machines/router.ts",
    search: "escalating: ({ context }) => context.escalation !== undefined,",
    replace: "escalating: ({ context }) => context.escalation !== undefined && false,",
    tests: SUPERVISION,
  },
  {
    name: "siblings stopped in registration order instead of the reverse",
    file: "machines/router.ts",
    search: "for (const name of affectedChildren(policy.strategy, context.order, part).reverse()) {",
    replace: "for (const name of affectedChildren(policy.strategy, context.order, part)) {",
    tests: SUPERVISION,
  },
  {
    name: "a restart that drops the router's pending deliveries instead of redelivering them",
    file: "machines/router.ts",
    search: "for (const delivery of record.pending) send(outbox, name, partEvents.deliver(delivery));",
    replace: "record.pending.length = 0;\n  record.pendingMessages = 0;",
    tests: DELIVERY,
  },
  {
    name: "an acknowledgement counted twice",
    file: "machines/router.ts",
    search: "record.pendingMessages -= done.messages.length;",
    replace: "record.pendingMessages -= 2 * done.messages.length;",
    tests: DELIVERY,
  },
  {
    name: "feedback meant for a crashed instance handed to its successor",
    file: "machines/router.ts",
    search: 'return record?.status === "ready" && record.restarts === restarts;',
    replace: 'return record?.status === "ready";',
    tests: DELIVERY,
  },
];
