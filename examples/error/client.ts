// Calls the failing function, prints the RemoteError, then shows that the server still answers.
import { Client, RemoteError } from "palm-actors";
import { addresses } from "../addresses.js";

const client = new Client({ serverName: "my_server", dbAddress: addresses().db });
await client.start();
try {
  await client.eval("my_server.foo", Buffer.from("a message"));
  console.log("Client got a result: unexpected");
} catch (error) {
  if (!(error instanceof RemoteError)) throw error;
  console.log(`Client got a RemoteError from ${error.server}.${error.function}: ${error.remoteCause}`);
}
// `echo` is every Server's built-in function: it returns the payload.
const result = await client.eval("my_server.echo", Buffer.from("still serving"));
console.log(`Client got: ${Buffer.from(result).toString()}`);
await client.stop();
