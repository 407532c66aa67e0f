"""User stories of client/server interception. Each function is a TextTest test rig: it starts the
traffic server from TextTest's variables, the real stand-in peer only while recording, and the
program under test (client or server) talking through capturemock."""
import json
import socketserver
import sys
import threading
import urllib.error
import urllib.request
import xmlrpc.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xmlrpc.server import SimpleXMLRPCServer

import capturemock

RECORDING = capturemock.texttest_is_recording()


def standins():
    import standins as module  # the real peers: needed only while recording

    return module


def classic_send(address, text):
    import socket

    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(text.encode())
        sock.shutdown(socket.SHUT_WR)
        return b"".join(iter(lambda: sock.recv(4096), b"")).decode()


def http(base, method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


class Served:
    """A server of the program under test, serving from a thread."""

    def __init__(self, server):
        self.server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.address = f"127.0.0.1:{server.server_address[1]}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# the client is the program under test
def classic_client(*requests):
    real = standins().quote_server() if RECORDING else None
    address = capturemock.start_server_from_texttest()["CAPTUREMOCK_SERVER"]
    if real:
        classic_send(address, f"SUT_SERVER:{real.address}")
    for request in requests:
        print(f"{request!r} -> {classic_send(address, request)!r}")
    capturemock.terminate()


def http_client_items():
    real = standins().item_store() if RECORDING else None
    base = capturemock.start_server_from_texttest(recordFromUrl=real and real.url)["CAPTUREMOCK_SERVER"]
    status, created = http(base, "POST", "/items", {"name": "cup", "colour": "blue"})
    print("create:", status, created)
    item_id = json.loads(created)["id"]
    print("read:", *http(base, "GET", f"/items/{item_id}"))
    print("missing:", *http(base, "GET", "/items/i-0"))
    capturemock.terminate()


def http_headers_ignored():
    import uuid

    real = standins().item_store() if RECORDING else None
    base = capturemock.start_server_from_texttest(recordFromUrl=real and real.url)["CAPTUREMOCK_SERVER"]
    status, body = http(base, "GET", "/status", headers={"X-Request-Id": str(uuid.uuid4())})
    print("status:", status, "up" if json.loads(body)["up"] else "down")
    capturemock.terminate()


def xmlrpc_client():
    real = standins().calculator() if RECORDING else None
    proxy = xmlrpc.client.ServerProxy(capturemock.start_server_from_texttest()["CAPTUREMOCK_SERVER"])
    if real:
        proxy.setServerLocation(real.url)
    print("EUR rate:", proxy.rate("EUR"))
    print("converted:", proxy.convert([10, 25.5], "USD"))
    try:
        proxy.rate("XYZ")
    except xmlrpc.client.Fault as fault:
        print("fault:", fault.faultString)
    capturemock.terminate()


def http_rules():
    """The test makes the traffic server answer a maintenance notice for /status, without a real server."""
    real = standins().item_store() if RECORDING else None
    env = capturemock.start_server_from_texttest(recordFromUrl=real and real.url)
    base = env["CAPTUREMOCK_SERVER"]
    token = {"X-CaptureMock-Token": env["CAPTUREMOCK_TOKEN"]}
    rule = {"method": "GET", "path": "/status", "response": {"status": 503, "body": {"maintenance": True}}}
    status, created = http(base, "POST", "/capturemock/rules", rule, headers=token)
    print("rule added:", status, created)
    print("status during maintenance:", *http(base, "GET", "/status"))
    print("rules:", http(base, "GET", "/capturemock/rules")[1])
    print("rule removed:", *http(base, "DELETE", "/capturemock/rules/" + json.loads(created)["id"], headers=token))
    status, body = http(base, "GET", "/status")
    print("status afterwards:", status, "up" if json.loads(body).get("up") else body)
    capturemock.terminate()


def http_rules_then_real():
    """A rule answers /status during maintenance; other requests go to the real service (or its mock)."""
    real = standins().item_store() if RECORDING else None
    env = capturemock.start_server_from_texttest(recordFromUrl=real and real.url)
    base = env["CAPTUREMOCK_SERVER"]
    token = {"X-CaptureMock-Token": env["CAPTUREMOCK_TOKEN"]}
    rule = {"method": "GET", "path": "/status", "response": {"status": 503, "body": {"maintenance": True}}}
    status, created = http(base, "POST", "/capturemock/rules", rule, headers=token)
    print("rule added:", status, created)
    print("status during maintenance:", *http(base, "GET", "/status"))
    print("item from the service:", *http(base, "GET", "/items/i-0"))
    print("rule removed:", *http(base, "DELETE", "/capturemock/rules/" + json.loads(created)["id"], headers=token))
    print("rules left:", http(base, "GET", "/capturemock/rules")[1])
    capturemock.terminate()


def http_rules_need_token():
    real = standins().item_store() if RECORDING else None
    env = capturemock.start_server_from_texttest(recordFromUrl=real and real.url)
    base = env["CAPTUREMOCK_SERVER"]
    rule = {"path": "/status", "response": {"body": "faked"}}
    print("without the token:", *http(base, "POST", "/capturemock/rules", rule, headers={"X-CaptureMock-Token": "guess"}))
    print("so the service answers:", http(base, "GET", "/items/i-0")[0])
    capturemock.terminate()


# the server is the program under test
def order_desk():
    """The program's own classic server: numbers the orders it takes."""
    taken = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            order = self.rfile.read().decode()
            taken.append(order)
            print("desk got", repr(order))
            self.wfile.write(f"order {len(taken)} accepted: {order}".encode())

    return Served(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler))


def classic_server():
    desk = order_desk()
    address = capturemock.start_server_from_texttest()["CAPTUREMOCK_SERVER"]
    classic_send(address, f"SUT_SERVER:order desk on {desk.address}")
    if RECORDING:
        standins().classic_clients(address, ["tea", "two cakes"])
    capturemock.terminate()
    desk.stop()


def http_server():
    """The program's own HTTP server: greets by name."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            name = self.path.partition("name=")[2] or "stranger"
            print("server got", self.path)
            sys.stdout.flush()
            body = f"hello {name}".encode()
            self.send_response_only(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    served = Served(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    base = capturemock.start_server_from_texttest()["CAPTUREMOCK_SERVER"]
    urllib.request.urlopen(urllib.request.Request(base + "/capturemock/setServerLocation", method="POST",
                                                  data=f"http://{served.address}".encode()), timeout=10).read()
    if RECORDING:
        standins().http_client(base, [("GET", "/greet?name=ann", None), ("GET", "/greet", None)])
    capturemock.terminate()
    served.stop()


def xmlrpc_server():
    """The program's own XML-RPC server: a shopping list."""
    items = []

    def add(item):
        items.append(item)
        print("server adds", item)
        sys.stdout.flush()
        return len(items)

    server = SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False)
    server.register_function(add)
    served = Served(server)
    url = capturemock.start_server_from_texttest()["CAPTUREMOCK_SERVER"]
    xmlrpc.client.ServerProxy(url).setServerLocation(f"http://{served.address}")
    if RECORDING:
        standins().xmlrpc_client(url, [("add", ("milk",)), ("add", ("bread",))])
    capturemock.terminate()
    served.stop()
    print("list:", items)
