import { machines } from "./machines/index.js";
import { partModel } from "./src/testing/partModel.js";
for (const [name, m] of Object.entries(machines)) {
  if (name === "router") continue;
  const t0 = performance.now();
  const model = partModel(m as any);
  const missingT = model.transitions.filter((t) => !model.coveredTransitions.has(t.id)).map((t) => t.id);
  const missingS = model.states.filter((s) => !model.coveredStates.has(s));
  console.log(name, `states ${model.states.length - missingS.length}/${model.states.length}`, `transitions ${model.transitions.length - missingT.length}/${model.transitions.length}`, `paths ${model.paths.length}`, `${(performance.now()-t0).toFixed(0)}ms`, missingS, missingT);
}
