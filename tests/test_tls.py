"""Mutual TLS through ``connect()``: ``rediss://`` with ``ssl_certfile``, ``ssl_keyfile`` and
``ssl_ca_certs`` in the URL.

The embedded Valkey is built without TLS (``--tls-port`` answers "Missing implement of
connection type tls"), so the server side here is a TLS terminator written with Python's
``ssl`` module in front of the embedded server's socket: it presents a certificate of a
test CA and requires a client certificate from the same CA, as a Redis with
``tls-auth-clients yes`` does. What is checked is our side: the URL's parameters reach
redis-py, both certificates are verified, and a whole job runs over the encrypted link.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import hotmesh_nb
from hotmesh_nb import ConnectError, HotMesh, MeshCall, Worker
from hotmesh_nb import _caller_reads as caller_reads

APP = """
app:
  id: tls
  version: '1'
  graphs:
    - subscribes: tls.go
      activities:
        t1: { type: trigger }
        w1:
          type: worker
          topic: tls.work
          input: { maps: { n: '{t1.output.data.n}' } }
          job: { maps: { twice: '{$self.output.data.twice}' } }
      transitions:
        t1:
          - to: w1
"""


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _issue(
    folder: Path,
    stem: str,
    subject: str,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    server: bool = False,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A key and certificate in ``folder/<stem>.key|.pem`` (self-signed when no issuer)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer[0].subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if server:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    (folder / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / f"{stem}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key


class Terminator:
    """TLS on a loopback port, requiring client certificates, relayed to a unix socket."""

    def __init__(self, socket_path: str, context: ssl.SSLContext) -> None:
        self.socket_path = socket_path
        self.context = context
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._relay, "127.0.0.1", 0, ssl=self.context)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()
        server.close()
        self.loop.run_until_complete(server.wait_closed())
        self.loop.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(self.socket_path)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, ssl.SSLError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@pytest.fixture
def tls(redis_url: str, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A mutual-TLS front of the test server: its port and the certificates' folder."""
    assert redis_url.startswith("unix://"), "the TLS test fronts the embedded server"
    ca = _issue(tmp_path, "ca", "hotmesh test CA", None)
    _issue(tmp_path, "server", "localhost", ca, server=True)
    _issue(tmp_path, "client", "hotmesh client", ca)
    _issue(tmp_path, "stranger", "stranger CA", None)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=tmp_path / "ca.pem")
    context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: no client certificate, no session
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    front = Terminator(redis_url.removeprefix("unix://").split("?")[0], context)
    yield front.port, tmp_path
    hotmesh_nb.shutdown()
    front.close()


def _url(port: int, folder: Path, *, cert: str | None = "client", ca: str = "ca") -> str:
    query = [f"ssl_ca_certs={quote(str(folder / f'{ca}.pem'))}"]
    if cert:
        query += [
            f"ssl_certfile={quote(str(folder / f'{cert}.pem'))}",
            f"ssl_keyfile={quote(str(folder / f'{cert}.key'))}",
        ]
    return f"rediss://localhost:{port}/0?" + "&".join(query)


def test_a_job_runs_over_mutual_tls(tls: tuple[int, Path], namespace: str) -> None:
    port, folder = tls
    url = _url(port, folder)
    hm = HotMesh.init(
        "tls",
        connection=url,
        namespace=namespace,
        workers=[Worker("tls.work", lambda msg: {"twice": msg.data["n"] * 2})],
    )
    hm.deploy(APP)
    hm.activate("1")
    assert hm.pubsub("tls.go", {"n": 21}, timeout=30) == {"twice": 42}
    assert hm.connection.url == url  # the parameters went through connect() untouched


def test_a_cached_meshcall_answer_is_read_over_tls_from_the_callers_loop(
    tls: tuple[int, Path], namespace: str, caller_read_failures: list[str]
) -> None:
    url = _url(*tls)
    MeshCall.connect("tls.upper", str.upper, connection=url, namespace=namespace)
    first = MeshCall.exec("tls.upper", ["a"], id="a", ttl=60, connection=url, namespace=namespace)

    async def again() -> tuple[str, int]:
        answer = await MeshCall.exec_async(
            "tls.upper", ["b"], id="a", ttl=60, connection=url, namespace=namespace
        )
        loop = asyncio.get_running_loop()
        return answer, sum(1 for held_loop, _ in caller_reads._held if held_loop is loop)

    assert asyncio.run(again()) == ("A", 1)  # read over this loop's own TLS connection
    assert first == "A" and caller_read_failures == []


def test_no_client_certificate_or_an_unknown_server_is_refused(tls: tuple[int, Path]) -> None:
    port, folder = tls
    # The server requires a client certificate (it closes or resets the connection,
    # by timing); the same URL with one connects (the test above)...
    with pytest.raises(ConnectError) as closed:
        hotmesh_nb.connect(_url(port, folder, cert=None))
    assert "ssl_certfile and ssl_keyfile" in str(closed.value)
    # ...and the client checks the server's against the CA it was given.
    with pytest.raises(ConnectError, match="certificate verify failed"):
        hotmesh_nb.connect(_url(port, folder, ca="stranger"))
