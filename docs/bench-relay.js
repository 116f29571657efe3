// The Node.js baseline for `rostrum bench fanout --node-relay bench/relay.js`:
// a websocket relay with the `ws` package that broadcasts what its publisher
// (the connection whose URL ends in `?publish`) sends, and nothing else, like
// `rostrum bench relay`. Prints its address, then serves until killed.
// Needs `ws` where Node finds it (NODE_PATH, or `npm install ws` next to it).
const { WebSocketServer } = require("ws");

const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
const observers = new Set();

server.on("listening", () => {
  const { address, port } = server.address();
  console.log(`${address}:${port}`);
});

server.on("connection", (socket, request) => {
  if (request.url.endsWith("?publish")) {
    socket.on("message", (data, isBinary) => {
      for (const observer of observers) {
        observer.send(data, { binary: isBinary });
      }
    });
  } else {
    observers.add(socket);
    socket.on("close", () => observers.delete(socket));
    socket.on("error", () => observers.delete(socket));
  }
});
