"""Stand-in servers on 127.0.0.1 for the client/server stories: what the real services would answer,
run-dependent like them. Test rigs start them only while recording."""
import json
import random
import socket
import socketserver
import threading
import xmlrpc.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xmlrpc.server import SimpleXMLRPCServer


class Running:
    """A server serving from a thread until stopped."""

    def __init__(self, server):
        self.server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    @property
    def address(self):
        return f"127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self):
        return f"http://{self.address}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def quote_server():
    """Classic text protocol: 'price SYMBOL' is answered with a price that changes on every call."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            request = self.rfile.read().decode()
            _, _, symbol = request.partition(" ")
            answer = "unknown request" if not request.startswith("price ") else \
                f"{symbol} {round(random.uniform(10, 500), 2)}"
            self.wfile.write(answer.encode())

    return Running(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler))


def item_store():
    """HTTP JSON store: POST /items makes an item with an id of its choosing; GET /items/<id> reads it."""
    items = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status, data):
            body = json.dumps(data).encode()
            self.send_response_only(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/status":
                self.reply(200, {"up": True, "load": random.randint(1, 99)})
                return
            item = items.get(self.path.rsplit("/", 1)[-1])
            self.reply(200 if item else 404, item or {"error": f"no item at {self.path}"})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = f"i-{random.randint(100, 999)}"
            items[key] = dict(body, id=key)
            self.reply(201, {"id": key})

    return Running(ThreadingHTTPServer(("127.0.0.1", 0), Handler))


def calculator():
    """XML-RPC service: exchange rates that change, and a fault for an unknown currency."""

    def rate(currency):
        if currency not in ("EUR", "USD"):
            raise ValueError(f"no rate for {currency}")
        return round(random.uniform(0.5, 2), 4)

    def convert(amounts, currency):
        factor = rate(currency)
        return {"currency": currency, "values": [round(amount * factor, 2) for amount in amounts]}

    server = SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False)
    server.register_function(rate)
    server.register_function(convert)
    return Running(server)


def classic_send(address, text):
    """One classic message: send, half-close, read the answer to the end."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(text.encode())
        sock.shutdown(socket.SHUT_WR)
        return b"".join(iter(lambda: sock.recv(4096), b"")).decode()


def classic_clients(address, requests):
    """The real clients of a server under test, while recording."""
    return [classic_send(address, request) for request in requests]


def http_client(base, requests):
    import urllib.request

    for method, path, body in requests:
        request = urllib.request.Request(base + path, data=body and json.dumps(body).encode(), method=method,
                                         headers={"Content-Type": "application/json"} if body else {})
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()


def xmlrpc_client(url, calls):
    proxy = xmlrpc.client.ServerProxy(url)
    return [getattr(proxy, name)(*args) for name, args in calls]
