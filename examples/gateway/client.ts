// pylm's gateway client: plain HTTP requests, no palm needed on this side.
const http = process.env.PALM_HTTP || "http://127.0.0.1:8888";

for (const [fn, body] of [
  ["echo", "hello"],
  ["foo", "a message"],
] as const) {
  const response = await fetch(`${http}/${fn}`, { method: "POST", body });
  console.log(`${fn}: ${response.status} ${await response.text()}`);
}
