#!/usr/bin/python3
"""Drives Debian's PyKMIP (python3-pykmip) against a Strongroom appliance.

Run with /usr/bin/python3 (the interpreter Debian's package is installed
for):

    /usr/bin/python3 test/kmip/pykmip/driver.py --port 5696 \
        --cert app.pem --key app.key --ca ca.pem [--version 1.4] SCENARIO [--arg k=v ...]

It runs one scenario (scenarios.py: a short story of KMIP operations on one
connection) and prints one JSON line: the KMIP version spoken, and for each
step either its results or its error. A step that failed carries the last
request PyKMIP sent and the response it got, as hex, so that the caller can
decode them with the appliance's own codec. Key material is never printed
(though a failed step's exchange may hold some, as hex): steps report
lengths and whether local checks with the material held.

TLS: PyKMIP 0.10 wraps its socket with ssl.wrap_socket, which checks the
server's chain but not its name (and is gone from Python 3.12). The driver
gives PyKMIP's KMIPProxy an SSLContext instead: TLS 1.2 at least, the
appliance CA, the client certificate, and the server's name checked
(--server-name, 'localhost' as in the appliance's certificate). `--tls stock`
keeps PyKMIP's own wrapping, to show its defaults also reach the appliance.
"""
import argparse
import json
import logging
import ssl
import sys
import tempfile
import warnings

try:
    from kmip.core import enums
    from kmip.pie import client as pie_client
    from kmip.pie import exceptions as pie_exceptions
    from kmip.core import exceptions as core_exceptions
    from kmip.core import utils
    from kmip.core.messages import messages
except ImportError as err:  # the test turns this into "run scripts/setup.sh"
    print(json.dumps({"ok": False, "missing": "kmip", "error": str(err)}))
    sys.exit(3)

import scenarios

VERSIONS = {
    "1.0": enums.KMIPVersion.KMIP_1_0,
    "1.1": enums.KMIPVersion.KMIP_1_1,
    "1.2": enums.KMIPVersion.KMIP_1_2,
    "1.3": enums.KMIPVersion.KMIP_1_3,
    "1.4": enums.KMIPVersion.KMIP_1_4,
    "2.0": enums.KMIPVersion.KMIP_2_0,
}


def appliance_context(cert, key, ca):
    """What the appliance asks of a client (server/tls/listen.ts): TLS >= 1.2, its CA, a client certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(cafile=ca)
    context.load_cert_chain(certfile=cert, keyfile=key)
    return context


class Recorder(object):
    """Keeps the last request and response bytes of one KMIPProxy (many of its methods bypass any one decoding path)."""

    def __init__(self, connection):
        self.connection = connection
        self.sent = None
        self.received = None

    def attach(self, proxy):
        # open() makes a new KMIPProtocol each time: wrap the one it makes.
        open_proxy = proxy.open

        def recorded_open():
            open_proxy()
            protocol = proxy.protocol
            write, read = protocol.write, protocol.read

            def recorded_write(data):
                self.sent, self.received = bytes(data), None
                return write(data)

            def recorded_read():
                data = read()
                self.received = bytes(data.buffer)  # a BytearrayStream, consumed as PyKMIP decodes it
                return data

            protocol.write, protocol.read = recorded_write, recorded_read

        proxy.open = recorded_open

    @property
    def response(self):
        """The last response as PyKMIP decodes it, or None if it cannot (PyKMIP reads no Poll payload, for one)."""
        if self.received is None:
            return None
        try:
            message = messages.ResponseMessage()
            message.read(utils.BytearrayStream(self.received), self.connection.client.kmip_version)
            return message
        except Exception:
            return None

    def exchange(self):
        return {
            "sent": self.sent.hex() if self.sent is not None else None,
            "received": self.received.hex() if self.received is not None else None,
        }

    def result(self):
        """The last response's first item as PyKMIP decoded it: status, reason, message, Asynchronous Correlation Value."""
        response = self.response
        items = response.batch_items if response is not None else []
        if not items:
            return None
        item = items[0]

        def value(field):
            return getattr(field, "value", None) if field is not None else None

        correlation = value(item.async_correlation_value)
        return {
            "status": getattr(value(item.result_status), "name", None),
            "reason": getattr(value(item.result_reason), "name", None),
            "message": value(item.result_message),
            # an approval request's id, when the answer is Operation Pending
            "correlation": bytes(correlation).decode("utf-8", "replace") if correlation is not None else None,
        }


class Connection(object):
    """A ProxyKmipClient (and its KMIPProxy) opened the way the options say; reopened after a broken exchange."""

    def __init__(self, options):
        self.options = options
        self.recorder = Recorder(self)
        self.client = None

    def open(self):
        o = self.options
        kwargs = dict(hostname=o.host, port=o.port, cert=o.cert, key=o.key, ca=o.ca, config_file=o.empty_config)
        if o.version != "default":
            kwargs["kmip_version"] = VERSIONS[o.version]
        self.client = pie_client.ProxyKmipClient(**kwargs)
        proxy = self.client.proxy
        if o.tls == "context":
            context = appliance_context(o.cert, o.key, o.ca)

            def create_socket(sock):
                proxy.socket = context.wrap_socket(sock, server_hostname=o.server_name)
                proxy.socket.settimeout(proxy.timeout)

            proxy._create_socket = create_socket
        self.recorder.attach(proxy)
        self.client.open()

    @property
    def proxy(self):
        return self.client.proxy

    def close(self):
        if self.client is not None:
            try:
                self.client.close()
            except Exception:
                pass
            self.client = None


class Story(object):
    """Runs a scenario's steps, recording each one's results or error; a step whose inputs failed is not run."""

    def __init__(self, connection):
        self.connection = connection
        self.steps = {}

    def step(self, name, run, needs=()):
        missing = [n for n in needs if not self.steps.get(n, {}).get("ok")]
        if missing:
            self.steps[name] = {"ok": False, "notRun": "needs " + ", ".join(missing)}
            return None
        try:
            value = run()
            self.steps[name] = dict(ok=True, **(value or {}))
            return value
        except (pie_exceptions.KmipOperationFailure, core_exceptions.OperationFailure) as err:
            self.steps[name] = self.failure(kmip_failure(err))
        except Exception as err:  # PyKMIP could not build, send or read: the connection may be out of step
            self.steps[name] = self.failure({"type": type(err).__name__, "message": str(err)})
            self.connection.close()
            self.connection.open()
        return None

    def failure(self, error):
        recorder = self.connection.recorder
        return {"ok": False, "error": error, "result": recorder.result(), "exchange": recorder.exchange()}


def kmip_failure(err):
    def name(value):
        return getattr(value, "name", None) if value is not None else None

    return {"type": "KmipOperationFailure", "status": name(err.status), "reason": name(err.reason), "message": err.message}


def parse_options(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--server-name", default="localhost", help="the name the server's certificate must carry")
    parser.add_argument("--version", default="default", choices=["default"] + sorted(VERSIONS), help="KMIP version (default: the client's own)")
    parser.add_argument("--tls", default="context", choices=["context", "stock"], help="context: the driver's SSLContext; stock: PyKMIP's ssl.wrap_socket")
    parser.add_argument("--arg", action="append", default=[], help="k=v, given to the scenario")
    parser.add_argument("scenario", choices=sorted(scenarios.SCENARIOS))
    options = parser.parse_args(argv)
    options.args = dict(a.split("=", 1) for a in options.arg)
    return options


def main(argv):
    options = parse_options(argv)
    # PyKMIP logs errors (with their messages) to the root logger: keep stdout one JSON line.
    logging.basicConfig(level=logging.CRITICAL)
    warnings.simplefilter("ignore", DeprecationWarning)  # ssl.wrap_socket in --tls stock
    # An empty configuration file: PyKMIP would otherwise read ~/.pykmip or /etc/pykmip settings.
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as empty:
        options.empty_config = empty.name
        connection = Connection(options)
        try:
            connection.open()
        except Exception as err:
            print(json.dumps({"ok": False, "connected": False, "error": {"type": type(err).__name__, "message": str(err)}}))
            return 2
        try:
            story = Story(connection)
            scenarios.SCENARIOS[options.scenario](story, options.args)
            version = connection.client.kmip_version
            tls = connection.proxy.socket
            print(json.dumps({
                "ok": True,
                "connected": True,
                "version": str(version.value),
                "tls": {"version": tls.version(), "cipher": tls.cipher()[0]} if tls is not None else None,
                "steps": story.steps,
            }))
        finally:
            connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
