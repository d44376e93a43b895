"""The Python baseline of bench/run-transport-bench: xend's design, Python's
SimpleXMLRPCServer with ThreadingMixIn (a thread per connection) and HTTP/1.1
keep-alive, serving the same VM records over HTTP and HTTPS.

usage: python_xmlrpc_baseline.py DATA.pickle PORT-FILE CERT KEY
DATA holds {"records": {ref: record}, "sessions": [ref, ...]}. Once both
listeners are up, PORT-FILE receives {"http": PORT, "https": PORT}."""
import json
import os
import pickle
import socketserver
import ssl
import sys
import threading
import uuid
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer


class Handler(SimpleXMLRPCRequestHandler):
    protocol_version = "HTTP/1.1"
    rpc_paths = ()  # every path, as XenAPI servers do


class Server(socketserver.ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True
    request_queue_size = 1024


def main():
    data_file, port_file, cert, key = sys.argv[1:5]
    with open(data_file, "rb") as f:
        data = pickle.load(f)
    records = data["records"]
    sessions = set(data["sessions"])
    lock = threading.Lock()

    def success(value):
        return {"Status": "Success", "Value": value}

    def invalid(session):
        return {"Status": "Failure", "ErrorDescription": ["SESSION_INVALID", session]}

    def login(user, password, *rest):
        ref = "OpaqueRef:" + str(uuid.uuid4())
        with lock:
            sessions.add(ref)
        return success(ref)

    def logout(session):
        with lock:
            sessions.discard(session)
        return success("")

    def get_record(session, ref):
        if session not in sessions:
            return invalid(session)
        if ref not in records:
            return {"Status": "Failure", "ErrorDescription": ["HANDLE_INVALID", "VM", ref]}
        return success(records[ref])

    def get_all_records(session):
        if session not in sessions:
            return invalid(session)
        return success(records)

    servers = []
    for tls in (False, True):
        s = Server(("127.0.0.1", 0), requestHandler=Handler, logRequests=False, allow_none=True)
        s.register_function(login, "session.login_with_password")
        s.register_function(logout, "session.logout")
        s.register_function(get_record, "VM.get_record")
        s.register_function(get_all_records, "VM.get_all_records")
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(cert, key)
            s.socket = ctx.wrap_socket(s.socket, server_side=True)
        servers.append(s)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"http": servers[0].server_address[1], "https": servers[1].server_address[1]}, f)
    os.rename(tmp, port_file)
    threading.Thread(target=servers[1].serve_forever, daemon=True).start()
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
